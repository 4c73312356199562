"""What the API keeps between requests: stored answers of idempotent POSTs, rate counters."""

from __future__ import annotations

from django.db import models


class IdempotentRequest(models.Model):
    """The first request made with an `Idempotency-Key` by one token (or user), and, once it
    finished, its answer; a row without a status is a request still running."""

    owner = models.CharField(max_length=40)  # "token:<id>" or "user:<id>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    created_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="api_idempotency_one_per_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_created")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


class RateCounter(models.Model):
    """Requests counted in one window for one token or client address (when no shared cache)."""

    bucket = models.CharField(max_length=120, primary_key=True)
    hits = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.bucket}: {self.hits}"
