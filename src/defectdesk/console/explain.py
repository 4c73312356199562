"""Plain words for a reviewer: why a defect counts, and the reasons a denial can give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from defectdesk.defects.models import Defect
from defectdesk.policy.profile import ODR_KINDS, Policy

METRIC_LABELS = {
    "order_defect_rate": "Order Defect Rate",
    "pre_fulfillment_cancel_rate": "Pre-fulfilment cancel rate",
    "late_shipment_rate": "Late shipment rate",
    "valid_tracking_rate": "Valid tracking rate",
    "on_time_delivery_rate": "On-time delivery rate",
    "refund_rate": "Refund rate",
    "contact_response_rate": "Contact response rate",
}

KIND_METRIC = {
    "cancellation": "pre_fulfillment_cancel_rate",
    "late_shipment": "late_shipment_rate",
    "invalid_tracking": "valid_tracking_rate",
    "late_delivery": "on_time_delivery_rate",
    "refund": "refund_rate",
}

OPENED_BY = {
    "negative_feedback": "the buyer left feedback rated {max_rating} stars or lower",
    "a_to_z_claim": "the buyer filed an A-to-z Guarantee claim",
    "chargeback": "the buyer's bank opened a chargeback with a service reason",
    "cancellation": "the seller cancelled the order before shipping it",
    "late_shipment": "the order shipped after its ship-by time, or had not shipped when it passed",
    "invalid_tracking": "the shipment had no tracking number, or no carrier scan within "
    "{scan_grace_hours} hours of shipping",
    "late_delivery": "the order was delivered after its deliver-by time, or not delivered "
    "when it passed",
    "refund": "the seller refunded the order",
}

# What a reviewer may give as the reason of a denial; the note to the merchant follows it.
DENIAL_REASONS: tuple[tuple[str, str], ...] = (
    ("evidence_insufficient", "The evidence does not show the reason given"),
    ("contradicted_by_ledger", "The order's records contradict the explanation"),
    ("reason_not_applicable", "The reason does not apply to this kind of defect"),
    ("defect_valid", "The defect was correctly counted"),
    ("no_reply", "The information requested was not provided"),
    ("other", "Other"),
)
DENIAL_LABELS = dict(DENIAL_REASONS)


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


@dataclass(frozen=True, slots=True)
class DefectReason:
    kind_label: str
    opened_by: str
    metric: str | None
    metric_label: str
    counts: bool
    target_text: str
    window_text: str
    leaves_window_on: date | None


def defect_reason(defect: Defect, order_date: date | None, policy: Policy) -> DefectReason:
    """Which metric a defect weighs on under the marketplace's policy, and until when."""
    spec_defects = policy.defects
    opened = OPENED_BY.get(defect.kind, defect.kind).format(
        max_rating=spec_defects.max_rating, scan_grace_hours=spec_defects.scan_grace_hours
    )
    if defect.kind in ODR_KINDS:
        metric: str | None = "order_defect_rate"
        counts = defect.kind in policy.metrics["order_defect_rate"].kinds
    else:
        metric = KIND_METRIC.get(defect.kind)
        counts = metric is not None
    counts = counts and spec_defects.enabled.get(defect.kind, True)
    if metric is None:
        return DefectReason(
            str(Defect.Kind(defect.kind).label), opened, None, "—", False, "", "", None
        )
    spec = policy.metrics[metric]
    sign = "<" if spec.condition == "lt" else ">"
    leaves = (
        order_date + timedelta(days=spec.lag_days + spec.window_days)
        if order_date is not None
        else None
    )
    return DefectReason(
        kind_label=str(Defect.Kind(defect.kind).label),
        opened_by=opened,
        metric=metric,
        metric_label=METRIC_LABELS[metric],
        counts=counts,
        target_text=f"{sign} {percent(spec.target)}",
        window_text=f"orders of the last {spec.window_days} days, {spec.lag_days} days lag",
        leaves_window_on=leaves,
    )
