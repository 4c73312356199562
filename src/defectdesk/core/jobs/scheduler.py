"""The scheduler: enqueue each periodic job once per slot, however many schedulers run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from defectdesk.core.jobs.policy import slot_start
from defectdesk.core.jobs.registry import PeriodicJob, periodic_jobs
from defectdesk.core.models import ScheduledSlot

logger = logging.getLogger("defectdesk.jobs")

_TABLE = ScheduledSlot._meta.db_table


def _slot_claim(job_name: str, start: datetime, now: datetime, scheduler_id: str) -> bool:
    """Insert the slot row; True only for the one scheduler whose insert won."""
    ops = connection.ops
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {_TABLE} (job_name, slot_start, claimed_at, scheduler_id) "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            "VALUES (%s, %s, %s, %s) ON CONFLICT (job_name, slot_start) DO NOTHING",
            [
                job_name,
                ops.adapt_datetimefield_value(start),
                ops.adapt_datetimefield_value(now),
                scheduler_id,
            ],
        )
        return cur.rowcount == 1


def scheduler_tick(
    *,
    now: datetime | None = None,
    jobs: Sequence[PeriodicJob] | None = None,
    scheduler_id: str = "",
) -> list[PeriodicJob]:
    """Enqueue every periodic job whose current slot nobody has claimed yet; returns those."""
    now = now or timezone.now()
    enqueued = []
    for periodic in periodic_jobs() if jobs is None else jobs:
        start = slot_start(now, periodic.every, periodic.offset)
        # The slot row and the job row commit together: a crash between them cannot lose
        # or double the run.
        try:
            with transaction.atomic():
                if not _slot_claim(periodic.name, start, now, scheduler_id):
                    continue
                result = periodic.task.enqueue()
                ScheduledSlot.objects.filter(job_name=periodic.name, slot_start=start).update(
                    task_id=result.id
                )
        except Exception:
            # Rolled back, slot and all: the next check tries again; other jobs go ahead.
            logger.exception(
                "could not enqueue %s for the slot starting %s", periodic.name, start.isoformat()
            )
            continue
        logger.info("enqueued %s for the slot starting %s", periodic.name, start.isoformat())
        enqueued.append(periodic)
    return enqueued


def scheduled_slots_prune(
    *,
    now: datetime | None = None,
    jobs: Sequence[PeriodicJob] | None = None,
    keep: timedelta = timedelta(days=30),
) -> int:
    """Delete slot rows older than `keep` (and than two periods of their job); returns how many.

    A job's current slot is never deleted, so pruning cannot enqueue a slot twice.
    """
    now = now or timezone.now()
    deleted = 0
    for periodic in periodic_jobs() if jobs is None else jobs:
        cutoff = now - max(keep, 2 * periodic.every)
        count, _ = ScheduledSlot.objects.filter(
            job_name=periodic.name, slot_start__lt=cutoff
        ).delete()
        deleted += count
    return deleted
