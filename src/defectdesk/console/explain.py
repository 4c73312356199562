"""Plain words for a reviewer: why a defect counts, and the reasons a denial can give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext, gettext_lazy

from defectdesk.defects.models import Defect
from defectdesk.policy.kinds import DEFECT_KINDS, kind_label, kind_text
from defectdesk.policy.metrics import metric_label, percent
from defectdesk.policy.profile import Policy

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
    declared = DEFECT_KINDS.get(defect.kind)
    if declared is None:
        return DefectReason(defect.kind, defect.kind, None, "—", False, "", "", None)
    opened = kind_text(declared.opened_by, spec_defects.settings.get(defect.kind, {}))
    metric = declared.metric
    counts = metric != "order_defect_rate" or defect.kind in policy.metrics[metric].kinds
    counts = counts and spec_defects.enabled.get(defect.kind, True)
    spec = policy.metrics[metric]
    sign = "<" if spec.condition == "lt" else ">"
    leaves = (
        order_date + timedelta(days=spec.lag_days + spec.window_days)
        if order_date is not None
        else None
    )
    return DefectReason(
        kind_label=kind_label(defect.kind),
        opened_by=opened,
        metric=metric,
        metric_label=metric_label(metric),
        counts=counts,
        target_text=f"{sign} {percent(spec.target)}",
        window_text=gettext("orders of the last %(window)s days, %(lag)s days lag")
        % {"window": spec.window_days, "lag": spec.lag_days},
        leaves_window_on=leaves,
    )
