"""Jobs for the many-workers test: each records its run in the audit trail, in its own
transaction, so a run cut short by a killed worker leaves no trace and a run twice shows twice."""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import transaction

from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.jobs import job

PROBE = Actor(rule="jobs probe")


def _record(number: int, seconds: float) -> int:
    with transaction.atomic():
        audit_record(
            actor=PROBE,
            action="probe.run",
            object_type="probe",
            object_id=str(number),
        )
        # Hold the transaction open: a worker killed now leaves nothing behind.
        time.sleep(seconds)
    return number


@job(max_attempts=3, backoff=timedelta(seconds=1))
def probe_quick(number: int) -> int:
    """A short job."""
    return _record(number, 0.01)


@job(max_attempts=3, backoff=timedelta(seconds=1), lease=timedelta(seconds=2))
def probe_slow(number: int) -> int:
    """A long job with a short lease, so that a killed worker's job is recovered quickly."""
    return _record(number, 4.0)
