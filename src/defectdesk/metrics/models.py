"""Per-seller daily counters (change points of every metric part) and the daily account status."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from defectdesk.accounts.models import Seller
from defectdesk.ledger.models import Marketplace
from defectdesk.policy.kinds import DEFECT_KINDS
from defectdesk.policy.metrics import MetricCode, Part

# The codes of the `part` column: a metric's parts, then each kind's ODR component.
PART_CHOICES = [
    *Part.choices,
    *((kind.counter_part, f"component {code}") for code, kind in DEFECT_KINDS.items()),
]


def codes_in(column: str, codes: list[int]) -> models.Q:
    """`column` holds one of these codes, as ranges of consecutive codes: SQLite checks a range
    at no cost, but an IN list on every counter write halves the ingestion speed."""
    runs: list[list[int]] = []
    for code in sorted(set(codes)):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    condition = models.Q()
    for low, high in runs:
        condition |= models.Q(**{f"{column}__range": (low, high)})
    return condition


class DailyCounter(models.Model):
    """The net change, on `change_day`, of one part of one metric for orders of `key_day`.

    A part as of day D over window [a, b] is SUM(delta) WHERE key_day BETWEEN a AND b AND
    change_day <= D (see defectdesk.metrics.core). Rebuildable from the ledger.
    """

    seller = models.ForeignKey(
        Seller, on_delete=models.CASCADE, db_index=False, db_constraint=False, related_name="+"
    )
    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.CASCADE, db_index=False, db_constraint=False, related_name="+"
    )
    metric = models.SmallIntegerField(choices=MetricCode.choices)
    part = models.SmallIntegerField(choices=PART_CHOICES)
    key_day = models.DateField()
    change_day = models.DateField()
    delta = models.IntegerField()

    class Meta:
        constraints = [
            # On PostgreSQL its index also carries `delta` (INCLUDE), so that a seller's health
            # is read from the index alone: migration 0003 says why it is not declared here.
            models.UniqueConstraint(
                fields=["seller", "marketplace", "metric", "key_day", "change_day", "part"],
                name="metrics_counter_one_cell",
            ),
            models.CheckConstraint(
                condition=codes_in("metric", MetricCode.values),
                name="metrics_counter_known_metric",
            ),
            models.CheckConstraint(
                condition=codes_in("part", [code for code, _ in PART_CHOICES]),
                name="metrics_counter_known_part",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seller_id}/{self.metric}/{self.part} {self.key_day} {self.change_day}"


class AccountStatusDay(models.Model):
    """A seller's account status in a marketplace as of one day, as recorded that day."""

    class Status(models.TextChoices):
        HEALTHY = "healthy", _("Healthy")
        AT_RISK = "at_risk", _("At risk")

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    marketplace = models.ForeignKey(Marketplace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices)
    failing = models.JSONField(default=list, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "marketplace", "day"], name="metrics_one_status_per_day"
            )
        ]
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.day} {self.status}"
