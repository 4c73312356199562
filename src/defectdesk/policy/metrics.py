"""Every account-health metric, declared once: name, stored code, label and default policy.

The policy profile's defaults, the counters' stored codes, the health JSON and every page
read these declarations; a metric's formula lives in `metrics/core.py` (`order_memberships`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import IntegerChoices
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class MetricCode(IntegerChoices):
    """The code of a metric in the counters' `metric` column. Fixed: stored rows keep them."""

    ORDER_DEFECT_RATE = 0, "order_defect_rate"
    PRE_FULFILLMENT_CANCEL_RATE = 1, "pre_fulfillment_cancel_rate"
    LATE_SHIPMENT_RATE = 2, "late_shipment_rate"
    VALID_TRACKING_RATE = 3, "valid_tracking_rate"
    ON_TIME_DELIVERY_RATE = 4, "on_time_delivery_rate"
    REFUND_RATE = 5, "refund_rate"
    CONTACT_RESPONSE_RATE = 6, "contact_response_rate"


class Part(IntegerChoices):
    """The code of a metric's part in the counters' `part` column. Fixed: stored rows keep them.

    A defect kind's component of the order defect rate has its own code, declared with the
    kind (`DefectKind.counter_part`, from `COMPONENT_BASE` on)."""

    DENOMINATOR = 0, "denominator"
    NUMERATOR = 1, "numerator"
    DENOMINATOR_MERCHANT = 2, "denominator, merchant-fulfilled"
    NUMERATOR_MERCHANT = 3, "numerator, merchant-fulfilled"
    DENOMINATOR_MARKETPLACE = 4, "denominator, marketplace-fulfilled"
    NUMERATOR_MARKETPLACE = 5, "numerator, marketplace-fulfilled"


COMPONENT_BASE = 10

CONDITIONS = ("lt", "gt")


@dataclass(frozen=True, slots=True)
class MetricDef:
    """One metric: what it is called, how it is stored, and its default policy."""

    name: str
    code: MetricCode
    label: Promise
    window_days: int
    lag_days: int
    target: float
    condition: str  # "lt": the rate must stay below the target; "gt": above it
    # Settings only this metric takes, with their defaults (the ODR's kinds are the kinds
    # declared to count in it, filled in by the policy profile).
    settings: dict[str, Any] = field(default_factory=dict)

    def default_policy(self) -> dict[str, Any]:
        return {
            "window_days": self.window_days,
            "lag_days": self.lag_days,
            "target": self.target,
            "condition": self.condition,
            **self.settings,
        }


ODR = "order_defect_rate"

METRIC_DEFS: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef(ODR, MetricCode.ORDER_DEFECT_RATE, _("Order Defect Rate"), 60, 14, 0.01, "lt"),
        MetricDef(
            "pre_fulfillment_cancel_rate",
            MetricCode.PRE_FULFILLMENT_CANCEL_RATE,
            _("Pre-fulfilment cancel rate"),
            7,
            0,
            0.025,
            "lt",
        ),
        MetricDef(
            "late_shipment_rate",
            MetricCode.LATE_SHIPMENT_RATE,
            _("Late shipment rate"),
            30,
            0,
            0.04,
            "lt",
        ),
        MetricDef(
            "valid_tracking_rate",
            MetricCode.VALID_TRACKING_RATE,
            _("Valid tracking rate"),
            30,
            10,
            0.95,
            "gt",
        ),
        MetricDef(
            "on_time_delivery_rate",
            MetricCode.ON_TIME_DELIVERY_RATE,
            _("On-time delivery rate"),
            30,
            10,
            0.90,
            "gt",
        ),
        MetricDef("refund_rate", MetricCode.REFUND_RATE, _("Refund rate"), 30, 0, 0.05, "lt"),
        MetricDef(
            "contact_response_rate",
            MetricCode.CONTACT_RESPONSE_RATE,
            _("Contact response rate"),
            30,
            0,
            0.90,
            "gt",
            settings={"response_hours": 24},
        ),
    )
}


def metric_label(name: str) -> str:
    """A metric's name in words (the code itself for an unknown one)."""
    found = METRIC_DEFS.get(name)
    return str(found.label) if found is not None else name


def percent(value: float | None) -> str:
    """A rate as a short percentage: 0.0125 is "1.25%", 0.05 "5%", none "—"."""
    if value is None:
        return "—"
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"
