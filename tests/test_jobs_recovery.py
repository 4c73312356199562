"""A job left RUNNING by a dead worker is put back once its lease has run out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from defectdesk.core.jobs import job
from defectdesk.core.jobs.worker import (
    LOST_JOB_ERROR,
    JobWorker,
    jobs_recover,
    worker_heartbeat,
    worker_heartbeat_stop,
)
from defectdesk.core.models import AuditEvent, JobAttempt, WorkerHeartbeat

# The worker checks its connection between jobs, as in production: real transactions.
pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@job(max_attempts=3, lease=LEASE)
def account_status_record() -> str:
    return "recorded"


@job(max_attempts=1, lease=LEASE)
def one_shot() -> str:
    return "done"


def claimed(task: object, worker_id: str) -> DBTaskResult:
    """Enqueue the job and claim it as `worker_id` would, at the current time."""
    result = task.enqueue()  # type: ignore[attr-defined]
    row = DBTaskResult.objects.get(id=result.id)
    row.claim(worker_id)
    return row


def run_due_jobs(worker_id: str = "w-new") -> None:
    JobWorker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
        heartbeat_every=0,
    ).run()


def test_job_of_a_killed_worker_is_put_back_after_its_lease_and_runs_again() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        worker_heartbeat("w-killed")
        row = claimed(account_status_record, "w-killed")
        # The worker is killed: its heartbeat stops at T0.
        clock.move_to(T0 + LEASE + timedelta(seconds=1))
        assert jobs_recover() == [str(row.pk)]
        row.refresh_from_db()
        assert row.status == TaskResultStatus.READY
        assert row.run_after == T0 + LEASE + timedelta(seconds=1)
        assert row.exception_class_path == LOST_JOB_ERROR
        assert jobs_recover() == []  # once only
        run_due_jobs("w-new")
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.worker_ids == ["w-killed", "w-new"]
    attempts = list(JobAttempt.objects.filter(task_id=row.pk).order_by("attempt"))
    assert [(a.attempt, a.worker_id, a.outcome) for a in attempts] == [
        (1, "w-killed", "lost"),
        (2, "w-new", "succeeded"),
    ]
    audit = AuditEvent.objects.get(action="job.recover")
    assert (audit.object_id, audit.from_state, audit.to_state) == (str(row.pk), "RUNNING", "READY")
    assert "w-killed" in audit.note


def test_job_within_its_lease_is_left_alone_even_without_a_heartbeat() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        row = claimed(account_status_record, "w-quiet")
        clock.move_to(T0 + LEASE - timedelta(seconds=1))
        assert jobs_recover() == []
    row.refresh_from_db()
    assert row.status == TaskResultStatus.RUNNING


def test_long_job_of_a_live_worker_is_left_alone() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        row = claimed(account_status_record, "w-busy")
        clock.move_to(T0 + LEASE * 10)
        worker_heartbeat("w-busy")  # the heartbeat thread keeps beating during the job
        assert jobs_recover() == []
    row.refresh_from_db()
    assert row.status == TaskResultStatus.RUNNING
    assert not AuditEvent.objects.filter(action="job.recover").exists()


def test_a_stale_heartbeat_counts_as_a_dead_worker() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        worker_heartbeat("w-hung")
        row = claimed(account_status_record, "w-hung")
        clock.move_to(T0 + timedelta(minutes=1, seconds=1))
        assert jobs_recover() == []  # heartbeat stale, but the lease still runs
        clock.move_to(T0 + LEASE + timedelta(seconds=1))
        assert jobs_recover() == [str(row.pk)]


def test_lost_job_with_no_attempts_left_fails() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        row = claimed(one_shot, "w-killed")
        clock.move_to(T0 + LEASE + timedelta(minutes=1))
        jobs_recover()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert row.finished_at == T0 + LEASE + timedelta(minutes=1)
    assert AuditEvent.objects.get(action="job.recover").to_state == "FAILED"


def test_heartbeat_registers_refreshes_and_stops() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        worker_heartbeat("w-1", queues="default")
        clock.move_to(T0 + timedelta(seconds=10))
        worker_heartbeat("w-1", queues="default")
    beat = WorkerHeartbeat.objects.get()
    assert (beat.started_at, beat.seen_at, beat.queues) == (
        T0,
        T0 + timedelta(seconds=10),
        "default",
    )
    assert beat.pid
    worker_heartbeat_stop("w-1")
    assert not WorkerHeartbeat.objects.exists()


def test_a_starting_worker_recovers_lost_jobs_first() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        row = claimed(account_status_record, "w-killed")
        clock.move_to(T0 + LEASE * 2)
        run_due_jobs("w-next")
    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
