"""Operator settings: policy with a preview that matches what saving does, users, tokens, audit."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from defectdesk.accounts.models import ApiToken, StaffRole
from defectdesk.appeals.models import AppealPolicy
from defectdesk.console.health import account_statuses, marketplace_today
from defectdesk.core.models import AuditEvent
from defectdesk.ledger.models import Marketplace
from defectdesk.policy.models import MarketplacePolicy
from tests.test_appeal_support import client_for, frozen, ingest, media  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "frozen")


def seller_orders(make_event: Any, seller: str, orders: int, negative: int) -> None:
    """Marketplace-fulfilled orders of Sept 1 (inside the ODR window), some with 1-star feedback."""
    events = []
    for i in range(orders):
        ref = f"{seller}-{i:05d}"
        events.append(
            make_event(
                order=ref, seller=seller, at="2026-09-01T12:00:00Z", fulfillment="marketplace"
            )
        )
        if i < negative:
            events.append(
                make_event(
                    "feedback.posted",
                    order=ref,
                    seller=seller,
                    at="2026-09-05T12:00:00Z",
                    feedback_id=f"FB-{ref}",
                    rating=1,
                )
            )
    ingest(*events)


@pytest.fixture
def sellers(cast: dict[str, Any], make_event: Any) -> Marketplace:
    seller_orders(make_event, "S-1", 150, 1)  # ODR 0.67%: healthy at 1%, at risk at 0.5%
    seller_orders(make_event, "S-2", 100, 0)  # healthy either way
    seller_orders(make_event, "S-3", 50, 1)  # ODR 2%: at risk either way
    return Marketplace.objects.get(code="US")


def policy_form(**changes: str) -> dict[str, str]:
    form = {
        "metrics.order_defect_rate.window_days": "60",
        "metrics.order_defect_rate.lag_days": "14",
        "metrics.order_defect_rate.target": "0.01",
        "metrics.order_defect_rate.condition": "lt",
        "review_hours": "48",
        "info_hours": "72",
        "filing_window_days.negative_feedback": "90",
        "auto_rules.fulfilled_by_marketplace": "approve",
    }
    form.update(changes)
    return form


def names(statuses: dict[int, str]) -> dict[str, str]:
    from defectdesk.accounts.models import Seller

    ids = dict(Seller.objects.values_list("pk", "external_id"))
    return {ids[k]: v for k, v in statuses.items()}


def test_preview_counts_the_sellers_that_saving_then_moves(
    cast: dict[str, Any], sellers: Marketplace
) -> None:
    today = marketplace_today(sellers)
    before = names(account_statuses(sellers, today))
    assert before == {"S-1": "healthy", "S-2": "healthy", "S-3": "at_risk"}
    otto = client_for(cast["otto"])
    url = "/operator/marketplaces/US/policy/"
    form = policy_form(**{"metrics.order_defect_rate.target": "0.005"})

    preview = otto.post(url, {**form, "action": "preview"})
    assert preview.status_code == 200
    shown = preview.context["preview"]
    assert shown.count == 1 and shown.to_at_risk == ["S-1"] and shown.to_healthy == []
    assert "1 seller would change status" in preview.content.decode()
    # The preview kept nothing.
    assert not MarketplacePolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="policy_set").exists()
    assert names(account_statuses(sellers, today)) == before

    saved = otto.post(url, {**form, "action": "save"}, follow=True)
    assert "1 seller changed status" in saved.content.decode()
    after = names(account_statuses(sellers, today))
    moved = sum(1 for k in before if before[k] != after.get(k, "healthy"))
    assert moved == shown.count
    assert after["S-1"] == "at_risk"
    row = MarketplacePolicy.objects.get(marketplace=sellers)
    assert row.profile["metrics"]["order_defect_rate"]["target"] == 0.005
    event = AuditEvent.objects.get(action="policy_set")
    assert event.actor_label == "otto"
    # The history was recomputed: today's health reads the new target.
    from tests.health import health_as_of

    odr = health_as_of("S-1", "US", today)["metrics"]["order_defect_rate"]
    assert odr["target"]["value"] == 0.005 and odr["status"] == "bad"


def test_a_defect_rule_change_is_previewed_by_recomputing_and_rolled_back(
    cast: dict[str, Any], sellers: Marketplace
) -> None:
    from defectdesk.console.preview import policy_preview
    from defectdesk.core.actors import SYSTEM
    from defectdesk.defects.models import Defect
    from defectdesk.policy.selectors import policy_for

    profile = copy.deepcopy(policy_for(sellers.pk).profile)
    profile["metrics"]["order_defect_rate"]["kinds"] = ["a_to_z_claim", "chargeback"]
    active = Defect.objects.filter(status="active").count()
    result = policy_preview(marketplace=sellers, profile=profile, actor=SYSTEM)
    assert result.to_healthy == ["S-3"]
    assert Defect.objects.filter(status="active").count() == active
    assert not MarketplacePolicy.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "metrics.order_defect_rate.window_days",
            "0",
            "must be a whole number of days from 1 to 365",
        ),
        ("metrics.order_defect_rate.target", "1.5", "must be a number from 0 to 1"),
        (
            "metrics.order_defect_rate.target",
            "abc",
            "must be a number from 0 to 1, not &#x27;abc&#x27;",
        ),
        (
            "metrics.order_defect_rate.lag_days",
            "two",
            "must be a whole number, not &#x27;two&#x27;",
        ),
        ("filing_window_days.negative_feedback", "0", "must be a whole number of days, 1 or more"),
        ("review_hours", "0", "must be a whole number of hours from 1 to 8760"),
        ("auto_rules.fulfilled_by_marketplace", "maybe", "must be one of approve, recommend, off"),
    ],
)
def test_a_bad_policy_is_refused_whole_and_names_the_field(
    cast: dict[str, Any], sellers: Marketplace, field: str, value: str, message: str
) -> None:
    otto = client_for(cast["otto"])
    for action in ("preview", "save"):
        response = otto.post(
            "/operator/marketplaces/US/policy/",
            {**policy_form(**{"info_hours": "24", field: value}), "action": action},
        )
        assert response.status_code == 422
        body = response.content.decode()
        assert message in body, body[:2000]
        assert "nothing was saved" in body
    assert not MarketplacePolicy.objects.exists()
    assert not AppealPolicy.objects.exists()  # the valid info_hours edit was not kept either


def test_appeal_deadlines_and_rule_modes_are_saved(
    cast: dict[str, Any], sellers: Marketplace
) -> None:
    from defectdesk.appeals.policy import appeal_rules_for

    client_for(cast["otto"]).post(
        "/operator/marketplaces/US/policy/",
        {
            **policy_form(
                **{
                    "info_hours": "24",
                    "auto_rules.fulfilled_by_marketplace": "recommend",
                    "filing_window_days.negative_feedback": "60",
                }
            ),
            "action": "save",
        },
    )
    rules = appeal_rules_for(sellers.pk)
    assert rules.info_hours == 24 and rules.review_hours == 48
    assert rules.mode_of("fulfilled_by_marketplace") == "recommend"
    assert rules.filing_window_days["negative_feedback"] == 60
    assert AuditEvent.objects.filter(action="appeal_policy_set", actor_label="otto").exists()


def test_the_last_operator_cannot_be_demoted(cast: dict[str, Any]) -> None:
    otto = client_for(cast["otto"])
    url = f"/operator/users/{cast['otto'].pk}/roles/"
    refused = otto.post(url, {"reviewer": "on"}, follow=True)
    assert "The last operator cannot be demoted." in refused.content.decode()
    assert StaffRole.objects.filter(user=cast["otto"], role="operator").exists()

    otto.post(f"/operator/users/{cast['rita'].pk}/roles/", {"reviewer": "on", "operator": "on"})
    assert StaffRole.objects.filter(user=cast["rita"], role="operator").exists()
    otto.post(url, {})
    assert not StaffRole.objects.filter(user=cast["otto"]).exists()
    cast["otto"].refresh_from_db()
    assert not cast["otto"].is_staff
    event = AuditEvent.objects.filter(action="user.roles").order_by("-id").first()
    assert event is not None and event.from_state == "operator" and event.to_state == ""


def test_operators_create_users_and_tokens_and_revoke_tokens(cast: dict[str, Any]) -> None:
    otto = client_for(cast["otto"])
    bad = otto.post(
        "/operator/users/", {"username": "vera", "password": "short", "kind": "reviewer"}
    )
    assert bad.status_code == 422
    assert "must be at least 8 characters" in bad.content.decode()
    otto.post(
        "/operator/users/",
        {"username": "vera", "password": "long-enough-1", "kind": "reviewer"},
    )
    assert StaffRole.objects.filter(user__username="vera", role="reviewer").exists()
    taken = otto.post(
        "/operator/users/", {"username": "vera", "password": "long-enough-1", "kind": "operator"}
    )
    assert "&#x27;vera&#x27; is taken" in taken.content.decode()

    made = otto.post("/operator/tokens/", {"name": "queue bot", "scope": ["review"]})
    raw = made.context["created"][1]
    assert raw.startswith("dd_") and raw in made.content.decode()
    assert made["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(name="queue bot")
    assert raw not in otto.get("/operator/tokens/").content.decode()
    otto.post(f"/operator/tokens/{token.pk}/revoke/", {"confirm": "yes"})
    token.refresh_from_db()
    assert token.revoked_at is not None
    neither = otto.post("/operator/tokens/", {"name": "x"})
    assert neither.status_code == 422
    assert "give either a seller or scopes" in neither.content.decode()


def test_marketplaces_are_validated_and_saved(cast: dict[str, Any]) -> None:
    otto = client_for(cast["otto"])
    bad = otto.post(
        "/operator/marketplaces/",
        {"code": "DE", "timezone": "Mars/Olympus", "currency": "eur", "name": ""},
    )
    assert bad.status_code == 422
    body = bad.content.decode()
    assert "unknown time zone" in body and "three-letter ISO 4217 code" in body
    assert not Marketplace.objects.filter(code="DE").exists()
    otto.post(
        "/operator/marketplaces/",
        {"code": "DE", "timezone": "Europe/Berlin", "currency": "EUR", "name": "Germany"},
    )
    assert Marketplace.objects.get(code="DE").timezone == "Europe/Berlin"


def test_audit_log_filters_by_actor_seller_appeal_action_and_date(
    cast: dict[str, Any], make_event: Any
) -> None:
    from defectdesk.appeals.actions import appeal_create, appeal_submit
    from tests.test_appeal_support import EXPLANATION, negative_feedback

    defect = negative_feedback(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    otto = client_for(cast["otto"])

    def listed(query: str) -> list[str]:
        response = otto.get(f"/operator/audit/?{query}")
        assert response.status_code == 200, query
        return [e.action for e in response.context["page"].object_list]

    assert listed(f"appeal={appeal.pk}") == ["appeal.submit", "appeal.create"]
    assert set(listed("actor=alice")) >= {"appeal.submit", "appeal.create"}
    assert "user.create" not in listed("actor=alice")
    assert listed("seller=S-2") == ["user.create"]  # carol's creation names her seller
    assert listed("action=appeal.sub") == ["appeal.submit"]
    assert listed("from=2026-10-12&to=2026-10-12")
    assert listed("from=2026-10-13") == []
    bad = otto.get("/operator/audit/?from=yesterday&appeal=x")
    assert bad.status_code == 422
    assert "must be a date as YYYY-MM-DD" in bad.content.decode()
    assert "must be an appeal number" in bad.content.decode()
