"""The defect rules of DESIGN §3 as a pure function of an order's events (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from defectdesk.core.timeutil import parse_aware
from defectdesk.defects.rules import DefectFact, defect_facts, with_appeal
from defectdesk.ledger.fold import LedgerEvent, fold_order
from defectdesk.metrics.core import day_of, day_reached
from defectdesk.policy.profile import DEFAULT_POLICY, policy_from_profile, profile_complete

PLACED = "2026-10-01T12:00:00Z"
SHIP_BY = "2026-10-03T12:00:00Z"
DELIVER_BY = "2026-10-08T12:00:00Z"


def at(text: str) -> datetime:
    return parse_aware(text)


def order(*events: tuple[str, str, dict[str, Any]], fulfillment: str = "merchant") -> Any:
    placed = (
        "order.placed",
        PLACED,
        {
            "buyer": "B",
            "fulfillment": fulfillment,
            "total": {"amount": "1.00", "currency": "USD"},
            "ship_by": SHIP_BY,
            "deliver_by": DELIVER_BY,
        },
    )
    evs = [
        LedgerEvent(f"e{i}", t, at(when), "S-1", data)
        for i, (t, when, data) in enumerate([placed, *events])
    ]
    return fold_order("US", "O-1", evs)


def facts(state: Any, **policy: Any) -> dict[str, DefectFact]:
    chosen = DEFAULT_POLICY if not policy else policy_from_profile(profile_complete(policy))
    return {
        f"{f.kind}:{f.source_key}" if f.source_key else f.kind: f
        for f in defect_facts(state, chosen)
    }


def shipped(when: str, tracking: str | None = "1Z") -> tuple[str, str, dict[str, Any]]:
    return ("order.shipped", when, {"tracking_number": tracking})


def active_at(fact: DefectFact, cutoff: datetime) -> bool:
    """Active for the state made of every event before `cutoff`."""
    return any(s < cutoff and (e is None or cutoff <= e) for s, e in fact.intervals)


def scanned(when: str) -> tuple[str, str, dict[str, Any]]:
    return ("shipment.scanned", when, {"status": "in_transit"})


def test_shipping_exactly_at_ship_by_is_on_time_and_a_second_later_is_late() -> None:
    assert "late_shipment" not in facts(order(shipped(SHIP_BY), scanned(SHIP_BY)))
    late = facts(order(shipped("2026-10-03T12:00:01Z")))["late_shipment"]
    assert late.opened_at == at(SHIP_BY) and late.is_active
    assert active_at(late, at("2026-10-03T12:00:01Z"))
    assert not active_at(late, at(SHIP_BY))  # the deadline itself has not passed yet


def test_unshipped_order_is_late_once_ship_by_passes() -> None:
    late = facts(order())["late_shipment"]
    assert late.intervals == ((at(SHIP_BY), None),)


def test_cancellation_before_ship_by_prevents_late_shipment_and_later_one_ends_it() -> None:
    early = order(("order.cancelled", "2026-10-02T00:00:00Z", {"requested_by": "buyer"}))
    assert "late_shipment" not in facts(early) and "cancellation" not in facts(early)
    later = facts(order(("order.cancelled", "2026-10-04T00:00:00Z", {"requested_by": "buyer"})))
    ended = later["late_shipment"]
    assert ended.intervals == ((at(SHIP_BY), at("2026-10-04T00:00:00Z")),)
    assert ended.removal_cause == "rule" and not ended.is_active


def test_only_a_seller_cancellation_before_shipment_is_a_cancellation_defect() -> None:
    seller = facts(order(("order.cancelled", "2026-10-02T00:00:00Z", {"requested_by": "seller"})))
    assert seller["cancellation"].opened_at == at("2026-10-02T00:00:00Z")
    after_shipping = order(
        shipped("2026-10-01T13:00:00Z"),
        ("order.cancelled", "2026-10-02T00:00:00Z", {"requested_by": "seller"}),
    )
    assert "cancellation" not in facts(after_shipping)
    fba = order(
        ("order.cancelled", "2026-10-02T00:00:00Z", {"requested_by": "seller"}),
        fulfillment="marketplace",
    )
    assert "cancellation" not in facts(fba) and "late_shipment" not in facts(fba)


def test_invalid_tracking_opens_at_shipping_without_number_and_any_scan_removes_it() -> None:
    none = facts(order(shipped("2026-10-02T00:00:00Z", tracking=" ")))["invalid_tracking"]
    assert none.opened_at == at("2026-10-02T00:00:00Z") and none.is_active
    fixed = facts(
        order(shipped("2026-10-02T00:00:00Z", tracking=None), scanned("2026-10-20T00:00:00Z"))
    )["invalid_tracking"]
    assert fixed.intervals == ((at("2026-10-02T00:00:00Z"), at("2026-10-20T00:00:00Z")),)
    assert fixed.removal_cause == "event"


def test_invalid_tracking_waits_48_hours_for_a_scan() -> None:
    silent = facts(order(shipped("2026-10-02T00:00:00Z")))["invalid_tracking"]
    assert silent.opened_at == at("2026-10-04T00:00:00Z")
    in_time = order(shipped("2026-10-02T00:00:00Z"), scanned("2026-10-04T00:00:00Z"))
    assert "invalid_tracking" not in facts(in_time)
    grace = facts(
        order(shipped("2026-10-02T00:00:00Z")),
        defects={"invalid_tracking": {"scan_grace_hours": 72}},
    )["invalid_tracking"]
    assert grace.opened_at == at("2026-10-05T00:00:00Z")


def test_late_delivery_is_after_deliver_by_strictly() -> None:
    on_time = order(
        shipped("2026-10-02T00:00:00Z"),
        scanned("2026-10-02T01:00:00Z"),
        ("order.delivered", DELIVER_BY, {}),
    )
    assert "late_delivery" not in facts(on_time)
    late = order(shipped("2026-10-02T00:00:00Z"), ("order.delivered", "2026-10-09T00:00:00Z", {}))
    assert facts(late)["late_delivery"].opened_at == at(DELIVER_BY)


def test_feedback_replaced_by_a_good_rating_stops_being_negative() -> None:
    fb = facts(
        order(
            ("feedback.posted", "2026-10-05T00:00:00Z", {"feedback_id": "F", "rating": 1}),
            ("feedback.posted", "2026-10-07T00:00:00Z", {"feedback_id": "F", "rating": 5}),
        )
    )
    neg = fb["negative_feedback:F"]
    assert neg.intervals == ((at("2026-10-05T00:00:00Z"), at("2026-10-07T00:00:00Z")),)
    assert neg.removal_cause == "event" and "rating 5" in neg.removal_detail


def test_feedback_removal_is_final() -> None:
    fb = facts(
        order(
            ("feedback.posted", "2026-10-05T00:00:00Z", {"feedback_id": "F", "rating": 2}),
            ("feedback.removed", "2026-10-06T00:00:00Z", {"feedback_id": "F"}),
            ("feedback.posted", "2026-10-07T00:00:00Z", {"feedback_id": "F", "rating": 1}),
        )
    )
    neg = fb["negative_feedback:F"]
    assert neg.intervals == ((at("2026-10-05T00:00:00Z"), at("2026-10-06T00:00:00Z")),)
    assert "feedback.removed" in neg.removal_detail
    assert "negative_feedback:F" not in facts(
        order(("feedback.posted", "2026-10-05T00:00:00Z", {"feedback_id": "F", "rating": 3}))
    )


def test_claim_denied_then_granted_seller_funded_is_active_again() -> None:
    claim = facts(
        order(
            ("claim.filed", "2026-10-05T00:00:00Z", {"claim_id": "C", "reason": "not_received"}),
            ("claim.decided", "2026-10-06T00:00:00Z", {"claim_id": "C", "outcome": "denied"}),
            (
                "claim.decided",
                "2026-10-09T00:00:00Z",
                {"claim_id": "C", "outcome": "granted_seller_funded"},
            ),
        )
    )["a_to_z_claim:C"]
    assert claim.intervals == (
        (at("2026-10-05T00:00:00Z"), at("2026-10-06T00:00:00Z")),
        (at("2026-10-09T00:00:00Z"), None),
    )
    assert claim.is_active


def test_chargebacks_count_for_service_reasons_and_end_when_won() -> None:
    def cb(reason: str, *more: Any) -> dict[str, DefectFact]:
        return facts(
            order(
                (
                    "chargeback.filed",
                    "2026-10-05T00:00:00Z",
                    {"chargeback_id": "K", "reason": reason},
                ),
                *more,
            )
        )

    assert "chargeback:K" not in cb("fraud") and "chargeback:K" not in cb("unrecognized")
    assert cb("duplicate")["chargeback:K"].is_active and cb("other")["chargeback:K"].is_active
    won = cb(
        "not_received",
        ("chargeback.decided", "2026-10-10T00:00:00Z", {"chargeback_id": "K", "outcome": "won"}),
    )["chargeback:K"]
    assert won.removed_at == at("2026-10-10T00:00:00Z")


def test_several_defects_on_one_order_and_the_first_refund() -> None:
    found = facts(
        order(
            ("refund.issued", "2026-10-05T00:00:00Z", {"amount": "1.00"}),
            ("refund.issued", "2026-10-06T00:00:00Z", {"amount": "1.00"}),
            ("feedback.posted", "2026-10-05T00:00:00Z", {"feedback_id": "F", "rating": 1}),
        )
    )
    assert found["refund"].opened_at == at("2026-10-05T00:00:00Z")
    assert {"refund", "negative_feedback:F", "late_shipment", "late_delivery"} <= set(found)


def test_an_approved_appeal_cuts_the_defect_at_its_moment() -> None:
    late = facts(order())["late_shipment"]
    cut = with_appeal(late, at("2026-10-10T00:00:00Z"))
    assert cut.intervals == ((at(SHIP_BY), at("2026-10-10T00:00:00Z")),)
    assert cut.removal_cause == "appeal" and not cut.is_active
    assert with_appeal(late, at("2026-10-01T00:00:00Z")).intervals == ()


def test_a_disabled_kind_gives_no_defects() -> None:
    assert "refund" not in facts(
        order(("refund.issued", "2026-10-05T00:00:00Z", {"amount": "1.00"})),
        defects={"refund": {"enabled": False}},
    )


def test_local_days_at_utc_minus_7_and_plus_8() -> None:
    phoenix, singapore = ZoneInfo("America/Phoenix"), ZoneInfo("Asia/Singapore")
    moment = datetime(2026, 10, 1, 6, 59, 59, tzinfo=UTC)
    assert date.fromordinal(day_of(moment, phoenix)) == date(2026, 9, 30)
    assert date.fromordinal(day_of(moment + timedelta(seconds=1), phoenix)) == date(2026, 10, 1)
    evening = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)  # midnight in Singapore
    assert date.fromordinal(day_of(evening, singapore)) == date(2026, 10, 2)
    # An age reached exactly at midnight is reached at the end of the day before.
    assert date.fromordinal(day_reached(evening, singapore)) == date(2026, 10, 1)
