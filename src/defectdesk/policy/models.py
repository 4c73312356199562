"""Per-marketplace policy rows (a marketplace without a row uses the default profile)."""

from __future__ import annotations

from django.db import models

from defectdesk.ledger.models import Marketplace


class MarketplacePolicy(models.Model):
    marketplace = models.OneToOneField(Marketplace, on_delete=models.CASCADE, related_name="policy")
    profile = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"policy of {self.marketplace_id} v{self.version}"
