"""The audit log: one row per state change, written in the change's own transaction."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One state change; rows are only ever inserted (database triggers refuse UPDATE, DELETE)."""

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    seller = models.ForeignKey(
        "accounts.Seller", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_state = models.CharField(max_length=40, blank=True, default="")
    to_state = models.CharField(max_length=40, blank=True, default="")
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class WorkerHeartbeat(models.Model):
    """A running worker process; a row not seen for a while marks a dead worker."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    queues = models.CharField(max_length=255, blank=True, default="")
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname} (pid {self.pid})"


class ScheduledSlot(models.Model):
    """One period of one periodic job; the unique row is what makes it run once per period."""

    job_name = models.CharField(max_length=100)
    slot_start = models.DateTimeField()
    claimed_at = models.DateTimeField()
    scheduler_id = models.CharField(max_length=64, blank=True, default="")
    task_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-slot_start", "job_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["job_name", "slot_start"], name="core_scheduled_slot_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.job_name} @ {self.slot_start:%Y-%m-%d %H:%M:%S}"


class JobAttempt(models.Model):
    """One run of a queued job: who ran it, when, and how it ended."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        RETRY = "retry", _("Failed, retry scheduled")
        FAILED = "failed", _("Failed for good")
        LOST = "lost", _("Lost with its worker")

    task = models.ForeignKey(
        "django_tasks_database.DBTaskResult", on_delete=models.CASCADE, related_name="+"
    )
    task_path = models.TextField()
    attempt = models.PositiveIntegerField()
    worker_id = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error = models.TextField(blank=True, default="")
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["task_id", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["task", "attempt"], name="core_job_attempt_once"),
            models.CheckConstraint(
                condition=models.Q(attempt__gte=1), name="core_job_attempt_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_path} attempt {self.attempt}: {self.outcome}"


class DataChange(models.Model):
    """One transaction's change to one seller's data (seller 0: data of no seller), of a random
    weight.

    Only inserted by writers (`core.datacache.data_changed`); the periodic fold replaces a
    seller's rows by one with the same total. Page caches are keyed by these (docs/scaling.md).
    """

    seller_id = models.BigIntegerField()
    weight = models.BigIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["seller_id", "id", "weight"], name="datachange_seller_idx")]

    def __str__(self) -> str:
        return f"seller {self.seller_id} +{self.weight}"
