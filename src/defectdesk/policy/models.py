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


class PolicyReplay(models.Model):
    """A recompute of one marketplace's defects and counters after its defect rules changed,
    run as a job; its progress is what the policy page shows."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SUPERSEDED = "superseded", "Superseded by a later change"

    marketplace = models.ForeignKey(Marketplace, on_delete=models.CASCADE, related_name="+")
    policy_version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    orders_total = models.PositiveIntegerField(default=0)
    orders_done = models.PositiveIntegerField(default=0)
    requested_by_label = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["marketplace", "-id"], name="policy_replay_latest")]

    def __str__(self) -> str:
        return f"replay of {self.marketplace_id} for policy v{self.policy_version}"

    @property
    def percent(self) -> int:
        """How far the replay is, in whole percent (0 until it knows its total)."""
        if not self.orders_total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, self.orders_done * 100 // self.orders_total)
