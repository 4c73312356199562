"""Buyer messages per order, projected from message events (rebuildable)."""

from __future__ import annotations

from django.db import models

from defectdesk.accounts.models import Seller
from defectdesk.ledger.models import Order


class BuyerMessage(models.Model):
    """A message from the buyer and when (if ever) the seller answered it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="buyer_messages")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    message_id = models.CharField(max_length=128)
    received_at = models.DateTimeField()
    body = models.TextField(blank=True, default="")
    answered_at = models.DateTimeField(null=True, blank=True)
    no_response_needed_at = models.DateTimeField(null=True, blank=True)
    mentions = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "message_id"], name="messaging_one_row_per_message"
            )
        ]
        indexes = [
            models.Index(
                fields=["seller", "answered_at", "received_at"], name="messaging_open_idx"
            ),
            models.Index(fields=["seller", "-received_at"], name="messaging_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} on {self.order_id}"
