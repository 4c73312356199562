"""The worker: runs queued jobs with retries and backoff, heartbeats, and recovers lost jobs."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from traceback import format_exception
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks.base import TaskContext, TaskResultStatus
from django_tasks.signals import task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import retry

from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.jobs.registry import retry_policy
from defectdesk.core.models import JobAttempt, WorkerHeartbeat

logger = logging.getLogger("defectdesk.jobs")


def heartbeat_timeout_setting() -> timedelta:
    """How long a worker may send no heartbeat before it is taken for dead (JOBS_WORKER_TIMEOUT)."""
    return timedelta(seconds=settings.JOBS_WORKER_TIMEOUT)


JOBS_ACTOR = Actor(rule="jobs")
LOST_JOB_ERROR = "defectdesk.core.jobs.worker.JobLost"


def _class_path(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def _error_text(exc: BaseException) -> str:
    return f"{_class_path(exc)}: {exc}"[:4000]


def _attempt_record(
    row: DBTaskResult,
    *,
    outcome: str,
    finished_at: datetime,
    error: str = "",
    retry_at: datetime | None = None,
) -> None:
    attempt = max(len(row.worker_ids), 1)
    JobAttempt.objects.bulk_create(
        [
            JobAttempt(
                task_id=row.pk,
                task_path=row.task_path,
                attempt=attempt,
                worker_id=row.worker_ids[-1] if row.worker_ids else "",
                started_at=row.started_at,
                finished_at=finished_at,
                outcome=outcome,
                error=error,
                retry_at=retry_at,
            )
        ],
        # A worker wrongly taken for dead may finish an attempt already recorded as lost.
        ignore_conflicts=True,
    )


def worker_heartbeat(worker_id: str, *, queues: str = "") -> None:
    """Record that the worker is alive (registering it on its first beat)."""
    now = timezone.now()
    if WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now):
        return
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname=socket.gethostname()[:255],
        pid=os.getpid(),
        queues=queues[:255],
        started_at=now,
        seen_at=now,
    )


def worker_heartbeat_stop(worker_id: str) -> None:
    """Remove the worker's heartbeat when it stops cleanly."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def jobs_recover(
    *, now: datetime | None = None, heartbeat_timeout: timedelta | None = None
) -> list[str]:
    """Put back jobs left RUNNING by dead workers once their lease ran out; returns their ids.

    A lost job is tried again at once, unless it has used up its attempts, then it fails.
    """
    now = now or timezone.now()
    heartbeat_timeout = heartbeat_timeout or heartbeat_timeout_setting()
    live = set(
        WorkerHeartbeat.objects.filter(seen_at__gte=now - heartbeat_timeout).values_list(
            "worker_id", flat=True
        )
    )
    recovered = []
    running = DBTaskResult.objects.running().only(
        "id", "task_path", "worker_ids", "started_at", "status"
    )
    for row in running:
        worker_id = row.worker_ids[-1] if row.worker_ids else ""
        if worker_id in live:
            continue
        policy = retry_policy(row.task_path)
        if row.started_at is not None and row.started_at > now - policy.lease:
            continue
        attempt = len(row.worker_ids)
        final = policy.gives_up_after(attempt)
        note = (
            f"worker {worker_id or '?'} stopped sending heartbeats while running attempt "
            f"{attempt} (lease {policy.lease})"
        )
        with transaction.atomic():
            # Guarded by status and start time: a worker that claimed it meanwhile wins.
            changed = DBTaskResult.objects.filter(
                pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at
            ).update(
                status=TaskResultStatus.FAILED if final else TaskResultStatus.READY,
                run_after=now,
                finished_at=now if final else None,
                exception_class_path=LOST_JOB_ERROR,
                traceback=note,
            )
            if not changed:
                continue
            _attempt_record(row, outcome=JobAttempt.Outcome.LOST, finished_at=now, error=note)
            audit_record(
                actor=JOBS_ACTOR,
                action="job.recover",
                object_type="job",
                object_id=row.pk,
                from_state=TaskResultStatus.RUNNING,
                to_state=TaskResultStatus.FAILED if final else TaskResultStatus.READY,
                note=note,
                data={"task": row.task_path, "attempt": attempt, "worker": worker_id},
            )
        logger.warning("recovered job %s (%s): %s", row.pk, row.task_path, note)
        recovered.append(str(row.pk))
    return recovered


def _as_started(row: DBTaskResult) -> QuerySet[DBTaskResult]:
    """The job's row while it is still the attempt this worker started (a job recovered and
    claimed elsewhere meanwhile no longer matches)."""
    return DBTaskResult.objects.filter(
        pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at
    )


@retry()
def _job_retry(row: DBTaskResult, exc: BaseException, retry_at: datetime) -> bool:
    now = timezone.now()
    with transaction.atomic():
        changed = _as_started(row).update(
            status=TaskResultStatus.READY,
            run_after=retry_at,
            exception_class_path=_class_path(exc),
            traceback=_error_text(exc),
        )
        if changed:
            _attempt_record(
                row,
                outcome=JobAttempt.Outcome.RETRY,
                finished_at=now,
                error=_error_text(exc),
                retry_at=retry_at,
            )
    return bool(changed)


def _job_fail(row: DBTaskResult, exc: BaseException) -> bool:
    now = timezone.now()
    with transaction.atomic():
        # Guarded like a retry: a job recovered and claimed elsewhere meanwhile is left alone.
        changed = _as_started(row).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            return_value=None,
            exception_class_path=_class_path(exc),
            traceback="".join(format_exception(exc)),
        )
        if not changed:
            return False
        _attempt_record(
            row, outcome=JobAttempt.Outcome.FAILED, finished_at=now, error=_error_text(exc)
        )
        audit_record(
            actor=JOBS_ACTOR,
            action="job.fail",
            object_type="job",
            object_id=row.pk,
            from_state=TaskResultStatus.RUNNING,
            to_state=TaskResultStatus.FAILED,
            note=_error_text(exc)[:500],
            data={"task": row.task_path, "attempts": len(row.worker_ids)},
        )
    return True


class JobWorker(Worker):
    """django-tasks-db's worker, plus retries with backoff, a heartbeat and lost-job recovery."""

    def __init__(
        self, *, heartbeat_every: float = 10.0, recover_every: float = 30.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.heartbeat_every = heartbeat_every
        self.recover_every = recover_every
        self._stop = threading.Event()

    def run(self) -> None:
        queues = ",".join(self.queue_names)
        worker_heartbeat(self.worker_id, queues=queues)
        jobs_recover()
        beat = None
        if self.heartbeat_every > 0:
            beat = threading.Thread(
                target=self._heartbeat_loop, args=(queues,), name="heartbeat", daemon=True
            )
            beat.start()
        try:
            super().run()
        finally:
            self._stop.set()
            if beat is not None:
                beat.join(timeout=5)
            try:
                worker_heartbeat_stop(self.worker_id)
            except DatabaseError:
                logger.warning("could not remove the heartbeat of worker %s", self.worker_id)

    def _heartbeat_loop(self, queues: str) -> None:
        last_recover = 0.0
        elapsed = 0.0
        try:
            while not self._stop.wait(self.heartbeat_every):
                elapsed += self.heartbeat_every
                try:
                    worker_heartbeat(self.worker_id, queues=queues)
                    if self.recover_every > 0 and elapsed - last_recover >= self.recover_every:
                        last_recover = elapsed
                        jobs_recover()
                except Exception:
                    # Keep beating: a silent worker would have its running job taken away.
                    logger.exception("heartbeat of worker %s failed", self.worker_id)
        finally:
            connections.close_all()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Run one claimed job; a failure is retried after a backoff until attempts run out."""
        row = db_task_result
        try:
            self.running_task = True
            task = row.task
            task_result = row.task_result
            backend_type = type(task.get_backend())
            task_started.send(sender=backend_type, task_result=task_result)
            if task.takes_context:
                value = task.call(
                    TaskContext(task_result=task_result), *task_result.args, **task_result.kwargs
                )
            else:
                value = task.call(*task_result.args, **task_result.kwargs)
            with transaction.atomic():
                row.set_successful(value)
                _attempt_record(
                    row,
                    outcome=JobAttempt.Outcome.SUCCEEDED,
                    finished_at=row.finished_at or timezone.now(),
                )
            task_finished.send(sender=backend_type, task_result=row.task_result)
        except BaseException as exc:
            self._task_failed(row, exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self.running_task = False
            self._run_tasks += 1

    def _task_failed(self, row: DBTaskResult, exc: BaseException) -> None:
        policy = retry_policy(row.task_path)
        attempt = len(row.worker_ids)
        interrupted = not isinstance(exc, Exception)
        if interrupted or not policy.gives_up_after(attempt):
            # An interrupted job (forced shutdown) is tried again at once.
            retry_at = timezone.now() + (timedelta(0) if interrupted else policy.delay(attempt))
            if _job_retry(row, exc, retry_at):
                logger.warning(
                    "job %s (%s) failed on attempt %d of %d: %s; retrying at %s",
                    row.pk,
                    row.task_path,
                    attempt,
                    policy.max_attempts,
                    _error_text(exc),
                    retry_at.isoformat(),
                )
            return
        logger.error(
            "job %s (%s) failed for good after %d attempts: %s",
            row.pk,
            row.task_path,
            attempt,
            _error_text(exc),
        )
        if not _job_fail(row, exc):
            return
        try:
            task_finished.send(sender=type(row.task.get_backend()), task_result=row.task_result)
        except Exception:
            logger.exception("job %s failed and its result cannot be reported", row.pk)
