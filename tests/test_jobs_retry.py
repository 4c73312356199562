"""A failing job is tried again after a growing backoff, and fails for good after its attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from defectdesk.core.jobs import job
from defectdesk.core.jobs.worker import JobWorker
from defectdesk.core.models import AuditEvent, JobAttempt, WorkerHeartbeat

# The worker checks its connection between jobs, as in production: real transactions.
pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FAILURES: dict[str, int] = {}


class CarrierDown(RuntimeError):
    pass


@job(max_attempts=3, backoff=timedelta(seconds=30), backoff_max=timedelta(minutes=10))
def carrier_poll(key: str, fail_times: int) -> str:
    """Fails `fail_times` times for `key`, then succeeds."""
    FAILURES[key] = FAILURES.get(key, 0) + 1
    if FAILURES[key] <= fail_times:
        raise CarrierDown(f"carrier API down ({key}, try {FAILURES[key]})")
    return f"polled {key}"


def run_due_jobs(worker_id: str = "w-1") -> None:
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


def attempts_of(task_id: str) -> list[tuple[int, str, datetime | None]]:
    return [
        (a.attempt, a.outcome, a.retry_at)
        for a in JobAttempt.objects.filter(task_id=task_id).order_by("attempt")
    ]


def test_failed_job_is_retried_with_doubling_backoff_then_fails_for_good() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        result = carrier_poll.enqueue("always", 99)
        run_due_jobs()
        row = DBTaskResult.objects.get(id=result.id)
        assert row.status == TaskResultStatus.READY
        assert row.run_after == T0 + timedelta(seconds=30)
        assert row.exception_class_path.endswith("CarrierDown")
        assert "try 1" in row.traceback

        run_due_jobs()  # not due yet: nothing runs
        assert FAILURES["always"] == 1

        clock.move_to(T0 + timedelta(seconds=30))
        run_due_jobs()
        row.refresh_from_db()
        assert row.status == TaskResultStatus.READY
        assert row.run_after == T0 + timedelta(seconds=30 + 60)

        clock.move_to(T0 + timedelta(seconds=89))
        run_due_jobs()
        assert FAILURES["always"] == 2

        clock.move_to(T0 + timedelta(seconds=90))
        run_due_jobs()
        row.refresh_from_db()
        assert row.status == TaskResultStatus.FAILED
        assert row.finished_at == T0 + timedelta(seconds=90)
        assert len(row.worker_ids) == 3

        clock.move_to(T0 + timedelta(hours=5))
        run_due_jobs()
    assert FAILURES["always"] == 3
    assert attempts_of(result.id) == [
        (1, "retry", T0 + timedelta(seconds=30)),
        (2, "retry", T0 + timedelta(seconds=90)),
        (3, "failed", None),
    ]
    assert (
        "carrier API down (always, try 3)"
        in JobAttempt.objects.get(task_id=result.id, attempt=3).error
    )
    audit = AuditEvent.objects.get(action="job.fail", object_id=str(result.id))
    assert (audit.from_state, audit.to_state, audit.actor_label) == (
        "RUNNING",
        "FAILED",
        "rule:jobs",
    )
    assert audit.data["attempts"] == 3
    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert result.attempts == 3


def test_job_that_recovers_on_a_retry_succeeds() -> None:
    with time_machine.travel(T0, tick=False) as clock:
        result = carrier_poll.enqueue("once", 1)
        run_due_jobs("w-1")
        clock.move_to(T0 + timedelta(seconds=31))
        run_due_jobs("w-2")
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "polled once"
    assert result.worker_ids == ["w-1", "w-2"]
    assert [(a, o) for a, o, _ in attempts_of(result.id)] == [(1, "retry"), (2, "succeeded")]
    assert not AuditEvent.objects.filter(action="job.fail").exists()


def test_a_plain_task_gets_the_default_policy() -> None:
    from defectdesk.core.jobs import retry_policy

    policy = retry_policy("somewhere.not_declared")
    assert policy.max_attempts == 5
    assert retry_policy(carrier_poll.module_path).max_attempts == 3


def test_worker_leaves_no_heartbeat_behind_when_it_stops() -> None:
    run_due_jobs("w-clean")
    assert not WorkerHeartbeat.objects.filter(worker_id="w-clean").exists()


@job(max_attempts=1)
def cut_short() -> None:
    """Stands for a job running when the worker is told to stop at once."""
    raise SystemExit(1)


def test_job_cut_short_by_a_forced_stop_is_put_back_at_once() -> None:
    with time_machine.travel(T0, tick=False):
        result = cut_short.enqueue()
        with pytest.raises(SystemExit):
            run_due_jobs("w-stopping")
    row = DBTaskResult.objects.get(id=result.id)
    # Even with no attempts left: being stopped is not the job's failure.
    assert (row.status, row.run_after) == (TaskResultStatus.READY, T0)
    assert attempts_of(result.id) == [(1, "retry", T0)]
    assert not WorkerHeartbeat.objects.filter(worker_id="w-stopping").exists()
