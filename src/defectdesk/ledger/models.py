"""Marketplaces, the append-only event ledger, and the orders projection."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from defectdesk.accounts.models import Seller


class Marketplace(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100, blank=True, default="")
    timezone = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    # Mirror mode: an external marketplace is decided elsewhere (`decided_by`, e.g. amazon.com);
    # its orders may lack facts that marketplace does not report (buyer, ship-by, deliver-by).
    external = models.BooleanField(default=False)
    decided_by = models.CharField(max_length=64, blank=True, default="")
    # The interface language for users who chose none and whose browser names none we have.
    default_language = models.CharField(max_length=16, default="en")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Event(models.Model):
    """One fact about an order as the marketplace reported it; never updated or deleted."""

    seq = models.BigAutoField(primary_key=True)
    # Unique through Meta.constraints: a unique field would also get a second, pattern-ops
    # index on PostgreSQL, which no query uses and every append would pay for.
    event_id = models.CharField(max_length=128)
    type = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    # No database-level foreign keys: the ingest action resolves both ids in the transaction
    # that appends the events, and marketplaces and sellers are never deleted (PROTECT still
    # guards deletes made through Django). A foreign key would run two lookups per event.
    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.PROTECT, db_index=False, db_constraint=False
    )
    seller = models.ForeignKey(
        Seller, on_delete=models.PROTECT, db_index=False, db_constraint=False
    )
    order_ref = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    body_hash = models.CharField(max_length=64)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id"], name="ledger_event_id_unique")]
        indexes = [models.Index(fields=["marketplace", "order_ref"], name="ledger_event_order_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class Order(models.Model):
    """The current state of an order, projected from its events (rebuildable)."""

    class Status(models.TextChoices):
        UNSHIPPED = "unshipped", _("Unshipped")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, db_index=False)
    order_ref = models.CharField(max_length=64)
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, db_index=False)
    status = models.CharField(max_length=20, choices=Status.choices)
    placed_at = models.DateTimeField()
    order_date = models.DateField()
    buyer = models.CharField(max_length=128, null=True, blank=True)
    fulfillment = models.CharField(max_length=20, null=True, blank=True)
    total_amount = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    ship_by = models.DateTimeField(null=True, blank=True)
    deliver_by = models.DateTimeField(null=True, blank=True)
    payment_ref = models.CharField(max_length=128, null=True, blank=True)
    items = models.JSONField(default=list, blank=True)
    skus = models.CharField(max_length=500, blank=True, default="")
    shipped_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=100, null=True, blank=True)
    tracking_number = models.CharField(max_length=128, null=True, blank=True)
    shipping_service = models.CharField(max_length=100, null=True, blank=True)
    first_scan_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=20, null=True, blank=True)
    return_requested_at = models.DateTimeField(null=True, blank=True)
    return_received_at = models.DateTimeField(null=True, blank=True)
    refunded_amount = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    first_refund_at = models.DateTimeField(null=True, blank=True)
    feedback_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    last_event_at = models.DateTimeField()
    event_count = models.PositiveIntegerField(default=0)
    # When the earliest of the order's active defects opened (None: no active defect). Kept
    # by the defects projection, so that `Problem orders` is one index range, not a join.
    problem_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "order_ref"], name="ledger_one_order_per_ref"
            )
        ]
        indexes = [
            models.Index(fields=["seller", "-placed_at"], name="ledger_order_seller_idx"),
            # Orders with an event dated later today (metrics/today.py), for one seller or all:
            # without it, a scan of the recent orders (150 ms a page for a 200,000-order seller).
            models.Index(fields=["last_event_at"], name="ledger_order_latest_idx"),
            models.Index(fields=["payment_ref"], name="ledger_order_payment_idx"),
            models.Index(fields=["order_ref"], name="ledger_order_ref_idx"),
            models.Index(
                fields=["seller", "-placed_at"],
                name="ledger_order_problem_idx",
                condition=models.Q(problem_since__isnull=False),
            ),
            # The open work behind at-risk orders: small slices of a seller's history.
            models.Index(
                fields=["seller", "ship_by"],
                name="ledger_order_unshipped_idx",
                condition=models.Q(shipped_at__isnull=True, cancelled_at__isnull=True),
            ),
            models.Index(
                fields=["seller", "shipped_at"],
                name="ledger_order_unscanned_idx",
                condition=models.Q(shipped_at__isnull=False, first_scan_at__isnull=True),
            ),
            models.Index(
                fields=["seller", "deliver_by"],
                name="ledger_order_undelivered_idx",
                condition=models.Q(delivered_at__isnull=True, cancelled_at__isnull=True),
            ),
            models.Index(
                fields=["seller", "return_received_at"],
                name="ledger_order_unrefunded_idx",
                condition=models.Q(return_received_at__isnull=False, first_refund_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.order_ref


class StripeWebhook(models.Model):
    """A Stripe webhook delivery, kept once per Stripe event id (idempotency and reporting)."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied to an order")
        UNMATCHED = "unmatched", _("No order matches the dispute")
        IGNORED = "ignored", _("Not a dispute event")
        REJECTED = "rejected", _("The events were rejected")
        INQUIRY = "inquiry", _("An inquiry: kept, no chargeback")
        REFUSED = "refused", _("Refused (see the detail)")

    stripe_event_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=80)
    dispute_id = models.CharField(max_length=128, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL)
    detail = models.TextField(blank=True, default="")
    payload = models.JSONField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.type} {self.status}"


class StripeDispute(models.Model):
    """A Stripe dispute (or inquiry) as last known: Stripe's raw status beside our state."""

    class State(models.TextChoices):
        INQUIRY = "inquiry", "Inquiry: kept, no chargeback unless it becomes a dispute"
        WAITING = "waiting", "Waiting for its order"
        APPLIED = "applied", "Applied to its order as a chargeback"
        REFUSED = "refused", "Refused"

    dispute_id = models.CharField(max_length=128, unique=True)
    stripe_status = models.CharField(max_length=40)
    # The `created` of the event that gave `stripe_status` (the latest event wins).
    status_at = models.BigIntegerField()
    # Whether Stripe ever gave it a dispute status (not only an inquiry's warning_*).
    escalated = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices)
    detail = models.CharField(max_length=500, blank=True, default="")
    charge = models.CharField(max_length=128, null=True, blank=True)
    payment_intent = models.CharField(max_length=128, null=True, blank=True)
    meta_marketplace = models.CharField(max_length=16, null=True, blank=True)
    meta_order = models.CharField(max_length=64, null=True, blank=True)
    meta_seller = models.CharField(max_length=64, null=True, blank=True)
    reason = models.CharField(max_length=32)
    amount = models.CharField(max_length=32, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    created = models.DateTimeField()
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL)
    first_seen_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(
                fields=["charge"],
                condition=models.Q(state="waiting"),
                name="ledger_dispute_waiting_idx",
            ),
            models.Index(fields=["state", "-updated_at"], name="ledger_dispute_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["inquiry", "waiting", "applied", "refused"]),
                name="ledger_dispute_state_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.stripe_status} ({self.state})"
