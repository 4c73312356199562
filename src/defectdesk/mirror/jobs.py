"""Mirror mode's jobs: step the Amazon report syncs that are due."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from defectdesk.core.jobs import job, periodic
from defectdesk.mirror.connector import sync_run
from defectdesk.mirror.models import SpApiConnection, SyncReport


@job(max_attempts=3, backoff=timedelta(minutes=1))
def sync_job(connection_id: int) -> int:
    """Request, poll and download one connection's due reports."""
    return sync_run(connection_id)


@periodic("sync Amazon reports", every=timedelta(minutes=1))
def syncs_due_job() -> int:
    """Step every connection that has a report due (throttled ones wait their back-off)."""
    due = (
        SyncReport.objects.filter(
            connection__status=SpApiConnection.Status.CONNECTED,
            status__in=[SyncReport.Status.PENDING, SyncReport.Status.REQUESTED],
            next_try_at__lte=timezone.now(),
        )
        .values_list("connection_id", flat=True)
        .distinct()
    )
    return sum(1 for connection_id in sorted(set(due)) if sync_run(connection_id) >= 0)
