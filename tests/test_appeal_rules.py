"""Automatic rules at submission: approve, recommend or off, each recording the rule and facts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from defectdesk.appeals.actions import appeal_create, appeal_decide, appeal_submit
from defectdesk.appeals.evidence import explanation_suggest, rules_evaluate
from defectdesk.appeals.models import AppealPolicy
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.ledger.fold import LedgerEvent, fold_order
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    claim_refunded_first,
    defect_on,
    frozen,
    ingest,
    media,
    negative_feedback,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")


def _audit(appeal_id: int) -> list[tuple[str, str, str, str]]:
    return [
        (e.action, e.from_state, e.to_state, e.actor_label)
        for e in AuditEvent.objects.filter(object_type="appeal", object_id=str(appeal_id)).order_by(
            "id"
        )
    ]


def test_negative_feedback_on_a_marketplace_fulfilled_order_is_approved_at_submission(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event, fulfillment="marketplace")
    appeal = appeal_create(
        actor=cast["alice"],
        defect=defect,
        reason="fulfilled_by_marketplace",
        explanation=EXPLANATION,
    )
    appeal = appeal_submit(actor=cast["alice"], appeal=appeal)
    assert appeal.status == "approved"
    assert (appeal.decision_cause, appeal.decision_rule) == ("rule", "fulfilled_by_marketplace")
    assert appeal.decided_by_label == "rule:fulfilled_by_marketplace"
    assert appeal.decision_facts["fulfillment"] == "marketplace"
    assert appeal.decision_facts["event"]  # the order.placed event that proves it
    assert _audit(appeal.pk)[1:] == [
        ("appeal.submit", "draft", "submitted", "alice"),
        ("appeal.approve", "submitted", "approved", "rule:fulfilled_by_marketplace"),
    ]
    defect.refresh_from_db()
    assert defect.status == Defect.Status.REMOVED
    assert defect.removal_cause == Defect.RemovalCause.APPEAL
    assert defect.removed_by_appeal_id == appeal.pk


def test_a_refund_before_the_claim_is_approved_at_submission(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = claim_refunded_first(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="refunded_before_claim", explanation=EXPLANATION
    )
    appeal = appeal_submit(actor=cast["alice"], appeal=appeal)
    assert appeal.status == "approved"
    assert appeal.decision_rule == "refund_before_claim"
    facts = appeal.decision_facts
    assert facts["refund_at"] == "2026-10-03T12:00:00Z"
    assert facts["filed_at"] == "2026-10-07T12:00:00Z"
    assert Decimal(facts["refund_amount"]) == Decimal("19.99")
    defect.refresh_from_db()
    assert defect.status == Defect.Status.REMOVED


def test_a_reason_the_ledger_does_not_prove_waits_for_a_reviewer(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event, fulfillment="merchant")
    appeal = appeal_create(
        actor=cast["alice"],
        defect=defect,
        reason="fulfilled_by_marketplace",
        explanation=EXPLANATION,
    )
    appeal = appeal_submit(actor=cast["alice"], appeal=appeal)
    assert appeal.status == "submitted"
    submit = AuditEvent.objects.get(action="appeal.submit")
    assert submit.data["rules"][0]["rule"] == "fulfilled_by_marketplace"
    assert submit.data["rules"][0]["proved"] is False
    defect.refresh_from_db()
    assert defect.status == Defect.Status.ACTIVE


def test_a_rule_set_to_recommend_leaves_the_decision_to_the_reviewer(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = claim_refunded_first(make_event)
    AppealPolicy.objects.create(
        marketplace=defect.marketplace, auto_rules={"refund_before_claim": "recommend"}
    )
    appeal = appeal_submit(
        actor=cast["alice"],
        appeal=appeal_create(
            actor=cast["alice"],
            defect=defect,
            reason="refunded_before_claim",
            explanation=EXPLANATION,
        ),
    )
    assert appeal.status == "submitted"
    assert appeal.recommendations[0]["rule"] == "refund_before_claim"
    decided = appeal_decide(actor=cast["rita"], appeal=appeal, decision="approve")
    assert decided.status == "approved" and decided.decision_cause == "reviewer"
    assert decided.decision_facts["recommendations"][0]["rule"] == "refund_before_claim"


def test_a_rule_set_off_does_nothing(cast: dict[str, Any], make_event: Any) -> None:
    defect = negative_feedback(make_event, fulfillment="marketplace")
    AppealPolicy.objects.create(
        marketplace=defect.marketplace, auto_rules={"fulfilled_by_marketplace": "off"}
    )
    appeal = appeal_submit(
        actor=cast["alice"],
        appeal=appeal_create(
            actor=cast["alice"],
            defect=defect,
            reason="fulfilled_by_marketplace",
            explanation=EXPLANATION,
        ),
    )
    assert appeal.status == "submitted" and appeal.recommendations == []


def test_delivery_before_a_not_received_claim_is_recommended(
    cast: dict[str, Any], make_event: Any
) -> None:
    order = "111-0000004-0000004"
    ingest(
        make_event(order=order),
        make_event(
            "order.shipped",
            order=order,
            at="2026-10-02T10:00:00Z",
            carrier="USPS",
            tracking_number="9400",
        ),
        make_event("order.delivered", order=order, at="2026-10-04T10:00:00Z", signature=True),
        make_event(
            "claim.filed",
            order=order,
            at="2026-10-08T10:00:00Z",
            claim_id="C-9",
            reason="not_received",
        ),
    )
    defect = defect_on(
        order, "a_to_z_claim", source_key="C-9", opened_at=datetime(2026, 10, 8, 10, tzinfo=UTC)
    )
    appeal = appeal_submit(
        actor=cast["alice"],
        appeal=appeal_create(
            actor=cast["alice"],
            defect=defect,
            reason="delivered_per_tracking",
            explanation=EXPLANATION,
        ),
    )
    assert appeal.status == "submitted"
    assert appeal.recommendations == [
        {
            "rule": "delivered_before_claim",
            "facts": {
                "dispute": "C-9",
                "dispute_reason": "not_received",
                "filed_at": "2026-10-08T10:00:00Z",
                "delivered_at": "2026-10-04T10:00:00Z",
                "event": appeal.recommendations[0]["facts"]["event"],
            },
        }
    ]


def _state(*events: tuple[str, str, dict[str, Any]]) -> Any:
    placed = LedgerEvent(
        "e0",
        "order.placed",
        datetime(2026, 10, 1, 12, tzinfo=UTC),
        "S-1",
        {
            "buyer": "B",
            "fulfillment": "merchant",
            "total": {"amount": "10", "currency": "USD"},
            "ship_by": "2026-10-03T23:59:59Z",
            "deliver_by": "2026-10-08T23:59:59Z",
        },
    )
    rest = [
        LedgerEvent(f"e{i + 1}", kind, datetime.fromisoformat(at), "S-1", data)
        for i, (kind, at, data) in enumerate(events)
    ]
    return fold_order("US", "O-1", [placed, *rest])


def test_a_scan_exactly_at_ship_by_proves_the_shipment_was_on_time() -> None:
    on_time = _state(("shipment.scanned", "2026-10-03T23:59:59+00:00", {"status": "accepted"}))
    late = _state(("shipment.scanned", "2026-10-04T00:00:00+00:00", {"status": "accepted"}))
    none = _state()
    proved = [
        rules_evaluate(s, "late_shipment", "carrier_scan_before_ship_by", "")[0].proved
        for s in (on_time, late, none)
    ]
    assert proved == [True, False, False]


def test_a_refund_after_the_claim_proves_nothing() -> None:
    state = _state(
        ("claim.filed", "2026-10-05T00:00:00+00:00", {"claim_id": "C", "reason": "not_received"}),
        ("refund.issued", "2026-10-06T00:00:00+00:00", {"amount": "10"}),
    )
    [finding] = rules_evaluate(state, "a_to_z_claim", "refunded_before_claim", "C")
    assert finding.proved is False and "refund_at" not in finding.facts


def test_delivery_before_a_not_as_described_claim_proves_nothing() -> None:
    state = _state(
        ("order.delivered", "2026-10-04T00:00:00+00:00", {}),
        (
            "claim.filed",
            "2026-10-05T00:00:00+00:00",
            {"claim_id": "C", "reason": "not_as_described"},
        ),
    )
    assert not rules_evaluate(state, "a_to_z_claim", "delivered_per_tracking", "C")[0].proved


def test_reasons_without_a_rule_run_no_rule_and_still_get_a_suggestion() -> None:
    state = _state()
    assert rules_evaluate(state, "negative_feedback", "obscene_or_abusive", "") == []
    text = explanation_suggest(state, "negative_feedback", "obscene_or_abusive", "")
    assert "O-1" in text and len(text) >= 30


def test_the_suggested_explanation_uses_the_ledger_facts() -> None:
    state = _state(
        ("refund.issued", "2026-10-02T08:00:00+00:00", {"amount": "10.00"}),
        ("claim.filed", "2026-10-05T00:00:00+00:00", {"claim_id": "C", "reason": "not_received"}),
    )
    text = explanation_suggest(state, "a_to_z_claim", "refunded_before_claim", "C")
    assert "10.00 USD" in text and "2026-10-02 08:00 UTC" in text and "2026-10-05" in text
