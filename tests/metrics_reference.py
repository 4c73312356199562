"""A reference implementation of DESIGN §3-§4, written straight from the text: slow and plain.

For each day D it keeps the events before the end of D (in the marketplace's zone), folds each
order, and applies the table's definitions at that cutoff. No intervals, no counters.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from defectdesk.core.timeutil import day_end, local_date, parse_aware
from defectdesk.ledger.fold import LedgerEvent, OrderState, fold_order

ODR_KINDS = ("negative_feedback", "a_to_z_claim", "chargeback")
SERVICE_REASONS = {"not_received", "not_as_described", "duplicate", "other"}
CLAIM_REMOVED = {"denied", "withdrawn", "granted_marketplace_funded"}
WINDOWS = {  # L, G
    "order_defect_rate": (60, 14),
    "pre_fulfillment_cancel_rate": (7, 0),
    "late_shipment_rate": (30, 0),
    "valid_tracking_rate": (30, 10),
    "on_time_delivery_rate": (30, 10),
    "refund_rate": (30, 0),
    "contact_response_rate": (30, 0),
}


def _latest(items: list[Any]) -> Any:
    return items[-1] if items else None


def active_kinds(o: OrderState, cutoff: datetime) -> set[str]:
    """The defect kinds active on an order folded from the events before `cutoff`."""
    kinds: set[str] = set()
    for fb in o.feedback.values():
        if fb.removed_at is None and fb.postings and fb.postings[-1].rating <= 2:
            kinds.add("negative_feedback")
    for claim in o.claims.values():
        last = _latest(claim.decisions)
        if claim.filed_at is not None and (last is None or last.outcome not in CLAIM_REMOVED):
            kinds.add("a_to_z_claim")
    for cb in o.chargebacks.values():
        last = _latest(cb.decisions)
        if (
            cb.filed_at is not None
            and cb.reason in SERVICE_REASONS
            and (last is None or last.outcome != "won")
        ):
            kinds.add("chargeback")
    merchant = o.fulfillment == "merchant"
    shipped = o.shipped_at
    cancelled_before = o.cancelled_at is not None and (shipped is None or o.cancelled_at < shipped)
    if merchant and cancelled_before and o.cancelled_by == "seller":
        kinds.add("cancellation")
    if (
        merchant
        and o.ship_by is not None
        and o.ship_by < cutoff
        and not cancelled_before
        and (shipped is None or shipped > o.ship_by)
    ):
        kinds.add("late_shipment")
    if merchant and shipped is not None and not o.scans:
        tracking = (o.shipments[0].tracking_number or "").strip()
        if not tracking or shipped + timedelta(hours=48) < cutoff:
            kinds.add("invalid_tracking")
    if (
        merchant
        and o.deliver_by is not None
        and o.deliver_by < cutoff
        and (o.delivered_at is None or o.delivered_at > o.deliver_by)
    ):
        kinds.add("late_delivery")
    if o.refunds:
        kinds.add("refund")
    return kinds


def reference_health(
    events: list[dict[str, Any]], tz: ZoneInfo, day: date, cutoff: datetime | None = None
) -> dict[str, Any]:
    """Numerators and denominators of every metric as of `day`, for one seller.

    The cut-off is the end of the day, or the given moment for a day not over yet.
    """
    cutoff = cutoff or day_end(day, tz)
    by_order: dict[str, list[LedgerEvent]] = defaultdict(list)
    for e in events:
        at = parse_aware(e["occurred_at"])
        if at < cutoff:
            by_order[e["order"]].append(LedgerEvent(e["id"], e["type"], at, e["seller"], e["data"]))
    out: dict[str, Any] = {m: {"numerator": 0, "denominator": 0} for m in WINDOWS}
    odr = out["order_defect_rate"]
    odr["components"] = dict.fromkeys(ODR_KINDS, 0)
    odr["by_fulfillment"] = {
        c: {"numerator": 0, "denominator": 0} for c in ("merchant", "marketplace")
    }

    def in_window(metric: str, d: date) -> bool:
        length, lag = WINDOWS[metric]
        return day - timedelta(days=lag + length - 1) <= d <= day - timedelta(days=lag)

    def count(metric: str, in_den: bool, in_num: bool) -> None:
        if in_den:
            out[metric]["denominator"] += 1
            out[metric]["numerator"] += int(in_num)

    for ref, evs in by_order.items():
        o = fold_order("M", ref, evs)
        if o.placed_at is None:
            continue
        order_date = local_date(o.placed_at, tz)
        kinds = active_kinds(o, cutoff)
        merchant = o.fulfillment == "merchant"
        shipped = o.shipped_at
        cancelled_before = o.cancelled_at is not None and (
            shipped is None or o.cancelled_at < shipped
        )
        if in_window("order_defect_rate", order_date):
            bad = bool(kinds & set(ODR_KINDS))
            count("order_defect_rate", True, bad)
            for k in ODR_KINDS:
                odr["components"][k] += int(k in kinds)
            if o.fulfillment in odr["by_fulfillment"]:
                ch = odr["by_fulfillment"][o.fulfillment]
                ch["denominator"] += 1
                ch["numerator"] += int(bad)
        if in_window("pre_fulfillment_cancel_rate", order_date):
            count("pre_fulfillment_cancel_rate", merchant, "cancellation" in kinds)
        if in_window("late_shipment_rate", order_date):
            den = (
                merchant
                and o.ship_by is not None
                and not cancelled_before
                and (shipped is not None or o.ship_by < cutoff)
            )
            count("late_shipment_rate", den, "late_shipment" in kinds)
        vtr_num = merchant and shipped is not None and "invalid_tracking" not in kinds
        if in_window("valid_tracking_rate", order_date):
            count("valid_tracking_rate", merchant and shipped is not None, vtr_num)
        if in_window("on_time_delivery_rate", order_date):
            reached = o.deliver_by is not None and (
                o.delivered_at is not None or o.deliver_by < cutoff
            )
            count("on_time_delivery_rate", vtr_num and reached, "late_delivery" not in kinds)
        if in_window("refund_rate", order_date):
            count("refund_rate", True, "refund" in kinds)
        sent = sorted(m.at for m in o.messages.values() if m.direction == "sent" and m.at)
        for m in o.messages.values():
            if m.direction != "received" or m.at is None:
                continue
            if not in_window("contact_response_rate", local_date(m.at, tz)):
                continue
            if m.no_response_needed_at is not None:
                continue
            answer = next((t for t in sent if t > m.at), None)
            fast = answer is not None and answer - m.at <= timedelta(hours=24)
            den = answer is not None or cutoff - m.at >= timedelta(hours=24)
            count("contact_response_rate", den, fast)
    return out
