"""Three workers and two schedulers against one PostgreSQL database: every job runs exactly
once, and a worker killed in the middle of a job loses nothing (its job is run again)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from defectdesk.core.models import AuditEvent, JobAttempt, ScheduledSlot
from tests.jobs_probe import probe_quick, probe_slow

ROOT = Path(__file__).resolve().parents[1]
DEFECTDESK = str(Path(sys.executable).with_name("defectdesk"))
BACKLOG = 100

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="several workers on one database need PostgreSQL (SKIP LOCKED): this runs in the "
        "PostgreSQL run of the suite, not on SQLite",
    ),
]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=_database_url(),
        DEFECTDESK_TESTING="1",
        JOBS_WORKER_TIMEOUT="4",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.pop("REDIS_URL", None)
    return env


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [DEFECTDESK, *args], cwd=ROOT, env=_env(), stdout=out, stderr=subprocess.STDOUT
        )


def _run(seconds: float, tmp_path: Path) -> dict[str, Any]:
    workers = {
        f"w{i}": _start(
            ["worker", "--worker-id", f"w{i}", "--interval", "0.2", "--heartbeat", "1"],
            tmp_path / f"w{i}.log",
        )
        for i in (1, 2, 3)
    }
    schedulers = [_start(["scheduler", "--interval", "1"], tmp_path / f"s{i}.log") for i in (1, 2)]
    processes = [*workers.values(), *schedulers]
    enqueued: list[str] = []
    slow: list[str] = []
    killed: str | None = None
    number = 0
    started = time.monotonic()
    try:
        for _ in range(3):
            number += 1
            slow.append(str(probe_slow.enqueue(number).id))
        while time.monotonic() - started < seconds:
            # Keep a backlog, not a flood: the test is about exactly once, not throughput.
            if DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() < BACKLOG:
                for _ in range(10):
                    number += 1
                    enqueued.append(str(probe_quick.enqueue(number).id))
            if killed is None:
                running = DBTaskResult.objects.filter(
                    id__in=slow, status=TaskResultStatus.RUNNING
                ).first()
                if running is not None and running.worker_ids:
                    killed = running.worker_ids[-1]
                    workers[killed].send_signal(signal.SIGKILL)
                    workers[killed].wait(timeout=10)
            for process in processes:
                if process.poll() is not None and process is not workers.get(killed or ""):
                    raise AssertionError(f"a process stopped early: {process.args}")
            time.sleep(0.5)
        # Let the queue drain (bounded), then stop the rest cleanly.
        deadline = time.monotonic() + 60
        ids = enqueued + slow
        while (
            DBTaskResult.objects.filter(id__in=ids)
            .exclude(status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED])
            .exists()
        ):
            assert time.monotonic() < deadline, "the queue did not drain within 60 s"
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    return {"quick": enqueued, "slow": slow, "killed": killed, "numbers": number}


def _check(run: dict[str, Any], seconds: float, tmp_path: Path) -> None:
    ids = run["quick"] + run["slow"]
    rows = DBTaskResult.objects.filter(id__in=ids)
    statuses = Counter(rows.values_list("status", flat=True))
    assert statuses == {TaskResultStatus.SUCCESSFUL: len(ids)}, statuses
    # Each job's effect is there exactly once: none lost, none doubled.
    runs = Counter(
        AuditEvent.objects.filter(action="probe.run").values_list("object_id", flat=True)
    )
    assert set(runs) == {str(n) for n in range(1, run["numbers"] + 1)}
    assert [n for n, count in runs.items() if count != 1] == []
    succeeded = Counter(
        JobAttempt.objects.filter(outcome=JobAttempt.Outcome.SUCCEEDED).values_list(
            "task_id", flat=True
        )
    )
    assert all(succeeded[i] == 1 for i in map(__import__("uuid").UUID, ids))
    # The killed worker's job was found lost and run again elsewhere.
    assert run["killed"] is not None, "no slow job was seen running to kill its worker"
    lost = JobAttempt.objects.filter(outcome=JobAttempt.Outcome.LOST, worker_id=run["killed"])
    assert lost.count() == 1
    assert AuditEvent.objects.filter(action="job.recover").count() == 1
    # The schedulers enqueued each periodic slot once, between them.
    slots = list(ScheduledSlot.objects.values_list("job_name", "slot_start", "scheduler_id"))
    assert len(slots) == len({(name, start) for name, start, _ in slots})
    periodic = DBTaskResult.objects.filter(
        id__in=ScheduledSlot.objects.exclude(task_id=None).values("task_id")
    )
    assert (
        periodic.exclude(status=TaskResultStatus.SUCCESSFUL)
        .filter(status=TaskResultStatus.FAILED)
        .count()
        == 0
    )
    by_worker = Counter(
        JobAttempt.objects.filter(outcome=JobAttempt.Outcome.SUCCEEDED).values_list(
            "worker_id", flat=True
        )
    )
    schedulers = {sid for _, _, sid in slots}
    print(
        f"\n{seconds:.0f} s, 3 workers and 2 schedulers: {len(ids)} queued jobs and "
        f"{len(slots)} periodic slots ran exactly once each; by worker {dict(by_worker)}; "
        f"slots by scheduler {Counter(sid for _, _, sid in slots)} ({len(schedulers)} took "
        f"part); worker {run['killed']} killed mid-job, its job recovered "
        f"({lost.first().error[:60] if lost.exists() else ''}...)"
    )


def test_three_workers_and_two_schedulers_run_every_job_exactly_once(tmp_path: Path) -> None:
    seconds = 60.0
    _check(_run(seconds, tmp_path), seconds, tmp_path)


@pytest.mark.soak
def test_ten_minutes_of_jobs_on_three_workers_and_two_schedulers(tmp_path: Path) -> None:
    seconds = 600.0
    _check(_run(seconds, tmp_path), seconds, tmp_path)
