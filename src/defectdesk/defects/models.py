"""The defect projection: facts about orders that hurt a seller's metrics (DESIGN §3)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from defectdesk.accounts.models import Seller
from defectdesk.ledger.models import Marketplace, Order
from defectdesk.policy.kinds import DEFECT_KINDS


class Defect(models.Model):
    # Declared in policy/kinds.py: one member per kind, in declaration order.
    Kind = models.TextChoices(  # type: ignore[misc,call-overload]
        "Kind", [(code.upper(), (code, kind.label)) for code, kind in DEFECT_KINDS.items()]
    )

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REMOVED = "removed", _("Removed")

    class RemovalCause(models.TextChoices):
        EVENT = "event", _("A later event")
        APPEAL = "appeal", _("An approved appeal")
        RULE = "rule", _("A policy rule")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="defects")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="defects")
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Which dispute or feedback on the order opened it ("" for order-level kinds).
    source_key = models.CharField(max_length=128, blank=True, default="")
    opened_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_cause = models.CharField(
        max_length=16, choices=RemovalCause.choices, blank=True, default=""
    )
    removal_detail = models.CharField(max_length=200, blank=True, default="")
    # Active intervals as the ledger alone says: [[start, end or null], ...] (ISO-8601, UTC).
    ledger_intervals = models.JSONField(default=list)
    source_event_ids = models.JSONField(default=list)
    # Set by an approved appeal; kept across rebuilds because appeals are not ledger events.
    appeal_removed_at = models.DateTimeField(null=True, blank=True)
    removed_by_appeal_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "source_key"], name="defects_one_per_order_kind_key"
            )
        ]
        indexes = [
            models.Index(fields=["seller", "status", "kind"], name="defects_seller_status_idx"),
            models.Index(fields=["seller", "-opened_at"], name="defects_seller_opened_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.order_id}"
