"""Merchants, owners included, get 404 on every reviewer and operator page; staff get in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern

from defectdesk.console import urls as console_urls
from tests.test_appeal_support import client_for, frozen, media, negative_feedback  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "frozen")

REVIEWER_ONLY_WRITES = {"review_assign", "review_request_info", "review_decide"}
POST_ONLY_OPERATOR_PAGES = {
    "operator_user_roles",
    "operator_token_revoke",
    "operator_webhook_rotate",
    "operator_webhook_disable",
    "operator_webhook_enable",
    "operator_webhook_resend",
}


def _urls(
    appeal_id: int,
    file_id: int,
    token_id: int,
    user_id: int,
    endpoint_id: int,
    delivery_id: int,
) -> list[tuple[str, str]]:
    """Every URL pattern of the console app, filled in with real ids."""
    values = {
        "appeal_id": appeal_id,
        "file_id": file_id,
        "token_id": token_id,
        "user_id": user_id,
        "endpoint_id": endpoint_id,
        "delivery_id": delivery_id,
        "code": "US",
    }
    out = []
    for pattern in console_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        for key, value in values.items():
            for conv in ("int", "str"):
                route = route.replace(f"<{conv}:{key}>", str(value))
        assert "<" not in route, route
        out.append((str(pattern.name), "/" + route))
    return out


@pytest.fixture
def world(cast: dict[str, Any], make_event: Any) -> dict[str, int]:
    from defectdesk.accounts.actions import token_create
    from defectdesk.appeals.actions import appeal_attach, appeal_create, appeal_submit
    from defectdesk.core.actors import SYSTEM
    from tests.test_appeal_support import EXPLANATION, png_bytes

    defect = negative_feedback(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    files = appeal_attach(actor=cast["alice"], appeal=appeal, uploads=[("a.png", png_bytes("red"))])
    appeal_submit(actor=cast["alice"], appeal=appeal)
    token, _ = token_create(actor=SYSTEM, name="ci", scopes=["ingest"])
    from django.db import transaction

    from defectdesk.webhooks.actions import webhook_endpoint_register
    from defectdesk.webhooks.models import WebhookDelivery
    from defectdesk.webhooks.outbox import webhook_emit

    endpoint, _ = webhook_endpoint_register(
        actor=SYSTEM, url="https://hooks.example.com/dd", event_types=["message.sent"]
    )
    with transaction.atomic():
        webhook_emit("message.sent", {"message_id": "m1"})
    return {
        "appeal_id": appeal.pk,
        "file_id": files[0].pk,
        "token_id": token.pk,
        "user_id": cast["bob"].pk,
        "endpoint_id": endpoint.pk,
        "delivery_id": WebhookDelivery.objects.get().pk,
    }


def _status(client: Client, method: str, url: str) -> int:
    response = client.get(url) if method == "get" else client.post(url, {})
    return response.status_code


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_merchants_get_404_on_every_console_url(
    cast: dict[str, Any], world: dict[str, int], who: str
) -> None:
    client = client_for(cast[who])
    for name, url in _urls(**world):
        for method in ("get", "post"):
            assert _status(client, method, url) == 404, (who, method, name, url)


def test_anonymous_visitors_are_sent_to_sign_in(world: dict[str, int]) -> None:
    client = Client()
    for name, url in _urls(**world):
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/signin/"), name


def test_reviewers_open_review_pages_but_get_404_on_operator_pages(
    cast: dict[str, Any], world: dict[str, int]
) -> None:
    client = client_for(cast["rita"])
    for name, url in _urls(**world):
        status = client.get(url).status_code
        if name.startswith("operator_"):
            assert status == 404, name
        elif name in REVIEWER_ONLY_WRITES:
            assert status == 405, name  # forms post; a GET is refused, not served
        else:
            assert status == 200, (name, url)


def test_operators_open_every_page(cast: dict[str, Any], world: dict[str, int]) -> None:
    client = client_for(cast["otto"])
    for name, url in _urls(**world):
        status = client.get(url).status_code
        if name in REVIEWER_ONLY_WRITES or name in POST_ONLY_OPERATOR_PAGES:
            assert status == 405, name
        else:
            assert status == 200, (name, url)


def test_django_admin_answers_only_to_operators(cast: dict[str, Any]) -> None:
    from defectdesk.accounts.actions import staff_roles_set
    from defectdesk.core.actors import SYSTEM

    assert client_for(cast["otto"]).get("/admin/").status_code == 200
    for who in ("alice", "rita"):
        response = client_for(cast[who]).get("/admin/")
        assert response.status_code == 302, who
        assert "/admin/login/" in response["Location"]
    # A user who keeps is_staff from an earlier operator role still gets no admin.
    rita = cast["rita"]
    rita.is_staff = True
    rita.save()
    assert client_for(rita).get("/admin/").status_code == 302
    staff_roles_set(actor=SYSTEM, user=rita, reviewer=True, operator=True)
    rita.refresh_from_db()
    assert rita.is_staff
    assert client_for(rita).get("/admin/").status_code == 200
