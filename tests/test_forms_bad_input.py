"""Every page's form survives hostile input: nothing missing, wrong types, huge numbers, NUL,
emoji, Chinese, HTML and spreadsheet formulas are shown back by field, never a 500, and a
refused post saves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from defectdesk.accounts.models import ApiToken, Invitation
from defectdesk.appeals.models import Appeal, AppealPolicy
from defectdesk.core.models import AuditEvent
from defectdesk.ledger.models import Marketplace
from defectdesk.policy.models import MarketplacePolicy
from defectdesk.webhooks.models import WebhookEndpoint
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    frozen,
    media,
    negative_feedback,
    png_bytes,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")

BAD = [
    "",
    "abc",
    "2026-13-45",
    "99999999999999999999999",
    "-1",
    "1.5e400",
    "\x00",
    "a\x00b",
    "😀" * 3,
    "中文字段",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","x")',
    "x" * 5000,
]

# (user, page, fields): every query-string input of every list and page.
GETS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "alice",
        "/orders/",
        ("q", "problem", "kind", "status", "fulfillment", "sort", "from", "to", "page"),
    ),
    ("alice", "/orders/export.csv", ("q", "kind", "status", "from", "to", "sort")),
    ("alice", "/appeals/", ("tab", "page")),
    ("alice", "/messages/", ("page",)),
    ("alice", "/notifications/", ("page",)),
    ("alice", "/", ("as_of",)),
    ("alice", "/health/appealable/", ("page", "as_of")),
    ("alice", "/health/order_defect_rate/", ("part", "component", "channel", "as_of", "page")),
    ("alice", "/sellers/", ("q",)),
    ("rita", "/review/", ("status", "kind", "reason", "assigned", "overdue", "recommended", "q")),
    ("rita", "/review/", ("page",)),
    ("rita", "/review/stats/", ("days",)),
    ("otto", "/operator/audit/", ("actor", "seller", "appeal", "action", "from", "to", "page")),
    ("otto", "/operator/stripe/", ("state", "page")),
    ("otto", "/operator/webhooks/{endpoint}/", ("page",)),
    ("rita", "/review/appeals/{appeal}/files/{file}/", ("download",)),
]

# (user, page, fields, models that must not change when every field is missing)
POSTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("alice", "/notifications/read/", ("all", "id")),
    ("alice", "/settings/users/", ("email", "role")),
    ("alice", "/settings/tokens/", ("name", "read_only")),
    ("alice", "/settings/tokens/{token}/revoke/", ("confirm",)),
    ("alice", "/orders/US/111-0000001-0000001/reply/", ("body",)),
    ("alice", "/appeals/{appeal}/reply/", ("message",)),
    ("alice", "/appeals/{appeal}/withdraw/", ("confirm",)),
    ("alice", "/marketplace/", ("marketplace", "next")),
    ("alice", "/settings/you/", ("time_zone", "language")),
    ("alice", "/language/", ("language", "next")),
    ("anon", "/invitations/{invitation}/", ("username", "password1", "password2")),
    ("rita", "/review/appeals/{appeal}/decide/", ("decision", "note", "deny_reason", "seen")),
    ("rita", "/review/appeals/{appeal}/request-info/", ("question", "seen")),
    ("rita", "/review/appeals/{appeal}/assign/", ("reviewer", "next")),
    ("otto", "/operator/marketplaces/", ("code", "name", "timezone", "currency")),
    (
        "otto",
        "/operator/users/",
        ("username", "email", "kind", "seller", "seller_role", "password"),
    ),
    ("otto", "/operator/users/{rita_id}/roles/", ("reviewer", "operator")),
    ("otto", "/operator/tokens/", ("name", "seller", "read_only", "scope")),
    ("otto", "/operator/tokens/{token}/revoke/", ("confirm",)),
    ("otto", "/operator/webhooks/", ("url", "description", "event_types")),
    (
        "otto",
        "/operator/marketplaces/US/policy/",
        (
            "metrics.order_defect_rate.window_days",
            "metrics.order_defect_rate.lag_days",
            "metrics.order_defect_rate.target",
            "metrics.order_defect_rate.condition",
            "metrics.contact_response_rate.response_hours",
            "filing_window_days.negative_feedback",
            "review_hours",
            "info_hours",
            "approval_note_required",
            "auto_rules.fulfilled_by_marketplace",
            "action",
        ),
    ),
]


@pytest.fixture
def world(cast: dict[str, Any], make_event: Any) -> dict[str, Any]:
    """An order with a defect, a submitted appeal with a file, a token, an invitation, a webhook."""
    from defectdesk.accounts.actions import invitation_create, token_create
    from defectdesk.accounts.models import Seller
    from defectdesk.appeals.actions import appeal_attach, appeal_create, appeal_submit
    from defectdesk.core.actors import SYSTEM, Actor
    from defectdesk.webhooks.actions import webhook_endpoint_register

    defect = negative_feedback(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    appeal_attach(actor=cast["alice"], appeal=appeal, uploads=[("proof.png", png_bytes())])
    appeal_submit(actor=cast["alice"], appeal=appeal)
    token, _ = token_create(actor=SYSTEM, name="ci", seller="S-1")
    endpoint, _ = webhook_endpoint_register(
        actor=SYSTEM, url="https://hooks.example.com/dd", event_types=["message.sent"]
    )

    _, key = invitation_create(
        actor=Actor(user=cast["alice"]),
        seller=Seller.objects.get(external_id="S-1"),
        email="new@x.example",
        role="staff",
    )
    return {
        **cast,
        "ids": {
            "appeal": appeal.pk,
            "token": token.pk,
            "invitation": key,
            "rita_id": cast["rita"].pk,
            "endpoint": endpoint.pk,
            "file": appeal.files.get().pk,
        },
    }


def _client(world: dict[str, Any], who: str) -> Client:
    client = Client(raise_request_exception=False)
    if who != "anon":
        client.force_login(world[who])
    return client


def _state() -> tuple[int, ...]:
    return (
        AuditEvent.objects.count(),
        ApiToken.objects.filter(revoked_at__isnull=True).count(),
        Invitation.objects.count(),
        Marketplace.objects.count(),
        WebhookEndpoint.objects.count(),
        MarketplacePolicy.objects.count(),
        AppealPolicy.objects.count(),
        *Appeal.objects.order_by("pk").values_list("status", flat=False),
    )


def _get(client: Client, url: str, params: dict[str, str]) -> Any:
    reply = client.get(url, params)
    if reply.status_code == 302 and reply["Location"].startswith(url):
        reply = client.get(reply["Location"])  # a NUL or a page past the end, dropped
    return reply


@pytest.mark.parametrize("value", BAD, ids=range(len(BAD)))
@pytest.mark.parametrize("who,url,fields", GETS, ids=[f"{u}-{f[0]}" for _, u, f in GETS])
def test_a_page_query_of_bad_values_shows_the_page(
    world: dict[str, Any], who: str, url: str, fields: tuple[str, ...], value: str
) -> None:
    target = url.format(**world["ids"])
    reply = _get(_client(world, who), target, dict.fromkeys(fields, value))
    assert reply.status_code in (200, 400, 404, 422), reply.status_code
    if reply.status_code == 422 and "text/html" in reply["Content-Type"]:
        assert "errorlist" in reply.content.decode() or "error" in reply.content.decode()


@pytest.mark.parametrize("who,url,fields", POSTS, ids=[u for _, u, _f in POSTS])
def test_a_post_with_every_field_missing_saves_nothing(
    world: dict[str, Any], who: str, url: str, fields: tuple[str, ...]
) -> None:
    before = _state()
    reply = _client(world, who).post(url.format(**world["ids"]), {})
    assert reply.status_code < 500
    if url.endswith(("/read/", "/roles/")):
        return  # checkboxes: none sent means none ticked (mark nothing read, take roles away)
    if url.endswith("/policy/"):
        # A policy setting not sent keeps its value: an empty post saves the policy in force
        # (here the defaults, stored for the first time; saving it again changes nothing:
        # tests/test_policy_set.py), and the checkbox, unsent, is off.
        assert reply.status_code == 303
        return
    assert _state() == before


@pytest.mark.parametrize("value", BAD, ids=range(len(BAD)))
@pytest.mark.parametrize("who,url,fields", POSTS, ids=[u for _, u, _f in POSTS])
def test_a_post_of_bad_values_is_shown_back_never_a_500(
    world: dict[str, Any], who: str, url: str, fields: tuple[str, ...], value: str
) -> None:
    target = url.format(**world["ids"])
    before = _state()
    reply = _client(world, who).post(target, dict.fromkeys(fields, value))
    assert reply.status_code < 500, reply.content[:2000]
    if reply.status_code >= 400:
        assert _state() == before  # refused: nothing of it was saved


# (user, method, page, data, status, what the page says): each bad field named by its message.
NAMED: list[tuple[str, str, str, dict[str, str], int, tuple[str, ...]]] = [
    (
        "alice",
        "get",
        "/orders/",
        {"from": "2026-13-45", "to": "abc", "page": "x"},
        200,
        ("“2026-13-45” is not a date; use YYYY-MM-DD.", "“abc” is not a date"),
    ),
    (
        "alice",
        "get",
        "/orders/",
        {"kind": "<b>x</b>", "status": "中文", "fulfillment": "😀", "q": "x" * 200},
        200,
        (
            "Unknown defect kind: &lt;b&gt;x&lt;/b&gt;.",
            "Unknown status.",
            "Unknown fulfilment channel.",
            "The search is too long (at most 128 characters).",
        ),
    ),
    ("alice", "get", "/", {"as_of": "2026-13-45"}, 200, ("as_of is not a date.",)),
    ("alice", "get", "/", {"as_of": "99999999999999999999999"}, 200, ("as_of is not a date.",)),
    ("alice", "get", "/", {"as_of": "2099-01-01"}, 200, ("as_of is in the future.",)),
    (
        "rita",
        "get",
        "/review/stats/",
        {"days": "99999999999999999999999"},
        422,
        ("must be a whole number of days from 1 to 366",),
    ),
    ("rita", "get", "/review/stats/", {"days": "=1+1"}, 422, ("from 1 to 366",)),
    (
        "rita",
        "get",
        "/review/",
        {"status": "中文", "kind": "1e400"},
        422,
        ("is not an open status", "is not a defect kind"),
    ),
    (
        "otto",
        "get",
        "/operator/audit/",
        {"from": "2026-13-45", "appeal": "99999999999999999999999"},
        422,
        ("must be a date as YYYY-MM-DD, not &#x27;2026-13-45&#x27;", "must be an appeal number"),
    ),
    (
        "alice",
        "post",
        "/settings/tokens/",
        {"name": "ci\x00"},
        200,
        ("Null characters are not allowed.",),
    ),
    ("alice", "post", "/settings/users/", {"email": "=1+1"}, 200, ("must be an e-mail address",)),
    (
        "alice",
        "post",
        "/orders/US/111-0000001-0000001/reply/",
        {"body": "a\x00b"},
        200,
        ("Null characters are not allowed.",),
    ),
    ("alice", "post", "/orders/US/111-0000001-0000001/reply/", {"body": " "}, 200, ("is empty",)),
    (
        "anon",
        "post",
        "/invitations/{invitation}/",
        {"username": "新人", "password1": "a-long-password-1", "password2": "😀"},
        200,
        ("the two passwords differ",),
    ),
    (
        "rita",
        "post",
        "/review/appeals/{appeal}/decide/",
        {"decision": "deny", "deny_reason": "中文", "note": ""},
        422,
        ("The denial was not recorded.", "choose the reason of the denial", "write a note"),
    ),
    (
        "rita",
        "post",
        "/review/appeals/{appeal}/request-info/",
        {"question": "why\x00"},
        422,
        ("Null characters are not allowed.",),
    ),
    (
        "otto",
        "post",
        "/operator/users/",
        {"username": "x", "kind": "😀"},
        422,
        ("choose reviewer, operator or a seller",),
    ),
    (
        "otto",
        "post",
        "/operator/marketplaces/",
        {"code": "U\x00S", "timezone": "UTC", "currency": "USD"},
        422,
        ("Null characters are not allowed.",),
    ),
    (
        "otto",
        "post",
        "/operator/tokens/",
        {"name": "ci", "scope": "read\x00"},
        422,
        ("Null characters are not allowed.",),
    ),
    (
        "otto",
        "post",
        "/operator/webhooks/",
        {"url": "http://x.example/\x00", "event_types": "message.sent"},
        422,
        ("Null characters are not allowed.",),
    ),
    (
        "otto",
        "post",
        "/operator/marketplaces/US/policy/",
        {"metrics.order_defect_rate.window_days": "60 days", "review_hours": "1.5e400"},
        422,
        (
            "must be a whole number, not &#x27;60 days&#x27;",
            "must be a whole number, not &#x27;1.5e400&#x27;",
            "nothing was saved",
        ),
    ),
    (
        "otto",
        "post",
        "/operator/marketplaces/US/policy/",
        {
            "metrics.pre_fulfillment_cancel_rate.target": "0.02",
            "metrics.bogus_rate.target": "0.5",
            "filing_window_days.bogus_kind": "30",
            "auto_rules.flip_a_coin": "approve",
            "action": "save",
        },
        422,
        ("unknown metric &#x27;bogus_rate&#x27;", "unknown defect kind &#x27;bogus_kind&#x27;"),
    ),
]


@pytest.mark.parametrize(
    "who,method,url,data,status,says",
    NAMED,
    ids=[f"{n}-{u}" for n, (_, _m, u, *_r) in enumerate(NAMED)],
)
def test_each_bad_field_is_named_and_nothing_is_saved(
    world: dict[str, Any],
    who: str,
    method: str,
    url: str,
    data: dict[str, str],
    status: int,
    says: tuple[str, ...],
) -> None:
    before = _state()
    client = _client(world, who)
    target = url.format(**world["ids"])
    reply = _get(client, target, data) if method == "get" else client.post(target, data)
    assert reply.status_code == status
    page = reply.content.decode()
    for text in says:
        assert text in page
    assert _state() == before
