"""Plain words for a reviewer: why a defect counts, and the reasons a denial can give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext, gettext_lazy

from defectdesk.defects.models import Defect
from defectdesk.policy.profile import ODR_KINDS, Policy

METRIC_LABELS: dict[str, Any] = {
    "order_defect_rate": gettext_lazy("Order Defect Rate"),
    "pre_fulfillment_cancel_rate": gettext_lazy("Pre-fulfilment cancel rate"),
    "late_shipment_rate": gettext_lazy("Late shipment rate"),
    "valid_tracking_rate": gettext_lazy("Valid tracking rate"),
    "on_time_delivery_rate": gettext_lazy("On-time delivery rate"),
    "refund_rate": gettext_lazy("Refund rate"),
    "contact_response_rate": gettext_lazy("Contact response rate"),
}

KIND_METRIC = {
    "cancellation": "pre_fulfillment_cancel_rate",
    "late_shipment": "late_shipment_rate",
    "invalid_tracking": "valid_tracking_rate",
    "late_delivery": "on_time_delivery_rate",
    "refund": "refund_rate",
}

OPENED_BY = {
    "negative_feedback": gettext_lazy("the buyer left feedback rated {max_rating} stars or lower"),
    "a_to_z_claim": gettext_lazy("the buyer filed an A-to-z Guarantee claim"),
    "chargeback": gettext_lazy("the buyer's bank opened a chargeback with a service reason"),
    "cancellation": gettext_lazy("the seller cancelled the order before shipping it"),
    "late_shipment": gettext_lazy(
        "the order shipped after its ship-by time, or had not shipped when it passed"
    ),
    "invalid_tracking": gettext_lazy(
        "the shipment had no tracking number, or no carrier scan within "
        "{scan_grace_hours} hours of shipping"
    ),
    "late_delivery": gettext_lazy(
        "the order was delivered after its deliver-by time, or not delivered when it passed"
    ),
    "refund": gettext_lazy("the seller refunded the order"),
}

# What a reviewer may give as the reason of a denial; the note to the merchant follows it.
DENIAL_REASONS: tuple[tuple[str, Any], ...] = (
    ("evidence_insufficient", gettext_lazy("The evidence does not show the reason given")),
    ("contradicted_by_ledger", gettext_lazy("The order's records contradict the explanation")),
    ("reason_not_applicable", gettext_lazy("The reason does not apply to this kind of defect")),
    ("defect_valid", gettext_lazy("The defect was correctly counted")),
    ("no_reply", gettext_lazy("The information requested was not provided")),
    ("other", gettext_lazy("Other")),
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
    opened = str(OPENED_BY.get(defect.kind, defect.kind)).format(
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
        metric_label=str(METRIC_LABELS[metric]),
        counts=counts,
        target_text=f"{sign} {percent(spec.target)}",
        window_text=gettext("orders of the last %(window)s days, %(lag)s days lag")
        % {"window": spec.window_days, "lag": spec.lag_days},
        leaves_window_on=leaves,
    )
