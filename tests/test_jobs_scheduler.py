"""The scheduler enqueues each periodic job exactly once per slot, however many schedulers run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from defectdesk.core.jobs import job, periodic
from defectdesk.core.jobs import registry as job_registry
from defectdesk.core.jobs.registry import PeriodicJob
from defectdesk.core.jobs.scheduler import scheduled_slots_prune, scheduler_tick
from defectdesk.core.models import ScheduledSlot

T0 = datetime(2026, 11, 26, 10, 0, 30, tzinfo=UTC)


@job
def outbox_deliver_for_test() -> str:
    return "delivered"


@job
def status_record_for_test() -> str:
    return "recorded"


JOBS = [
    PeriodicJob(name="deliver outbox", every=timedelta(minutes=1), task=outbox_deliver_for_test),
    PeriodicJob(
        name="record daily account status", every=timedelta(days=1), task=status_record_for_test
    ),
]


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, PeriodicJob]]:
    """An empty periodic-job registry for the test, restored afterwards."""
    fresh: dict[str, PeriodicJob] = {}
    monkeypatch.setattr(job_registry, "_periodic", fresh)
    monkeypatch.setattr(job_registry, "_discovered", True)
    yield fresh


def enqueued_paths() -> list[str]:
    return sorted(DBTaskResult.objects.values_list("task_path", flat=True))


@pytest.mark.django_db
def test_schedulers_racing_in_one_slot_enqueue_each_job_once() -> None:
    runs = [scheduler_tick(now=T0, jobs=JOBS, scheduler_id=f"s{i}") for i in range(5)]
    assert [len(r) for r in runs] == [2, 0, 0, 0, 0]
    assert enqueued_paths() == sorted(j.task.module_path for j in JOBS)
    slots = {(s.job_name, s.slot_start) for s in ScheduledSlot.objects.all()}
    assert slots == {
        ("deliver outbox", datetime(2026, 11, 26, 10, 0, tzinfo=UTC)),
        ("record daily account status", datetime(2026, 11, 26, tzinfo=UTC)),
    }
    minute = ScheduledSlot.objects.get(job_name="deliver outbox")
    assert minute.scheduler_id == "s0"
    assert str(minute.task_id) == str(
        DBTaskResult.objects.get(task_path=outbox_deliver_for_test.module_path).id
    )


@pytest.mark.django_db
def test_each_new_slot_is_enqueued_once_more() -> None:
    for seconds in range(0, 181, 15):  # three minutes, checked every 15 s
        scheduler_tick(now=T0 + timedelta(seconds=seconds), jobs=JOBS)
        scheduler_tick(now=T0 + timedelta(seconds=seconds), jobs=JOBS)
    minute_path = outbox_deliver_for_test.module_path
    # 10:00:30 .. 10:03:30 touches the slots 10:00, 10:01, 10:02 and 10:03.
    assert DBTaskResult.objects.filter(task_path=minute_path).count() == 4
    assert DBTaskResult.objects.filter(task_path=status_record_for_test.module_path).count() == 1


@pytest.mark.django_db
def test_a_missed_slot_is_not_made_up_later() -> None:
    scheduler_tick(now=T0, jobs=JOBS[:1])
    scheduler_tick(now=T0 + timedelta(minutes=10), jobs=JOBS[:1])
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_threads_racing_on_postgresql_enqueue_each_slot_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions are raced on PostgreSQL; SQLite runs them in turn")
    threads_n, slots_n = 8, 5
    barrier = threading.Barrier(threads_n)
    won: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def scheduler(index: int) -> None:
        try:
            for slot in range(slots_n):
                barrier.wait(timeout=30)
                now = T0 + timedelta(minutes=slot)
                count = len(scheduler_tick(now=now, jobs=JOBS, scheduler_id=f"s{index}"))
                with lock:
                    won.append(count)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    # Five minute slots plus the one day slot, each enqueued by exactly one scheduler.
    assert sum(won) == slots_n + 1
    assert (
        DBTaskResult.objects.filter(task_path=outbox_deliver_for_test.module_path).count()
        == slots_n
    )
    assert DBTaskResult.objects.filter(task_path=status_record_for_test.module_path).count() == 1
    assert ScheduledSlot.objects.count() == slots_n + 1
    assert ScheduledSlot.objects.filter(task_id__isnull=True).count() == 0


def test_periodic_registers_the_job_and_refuses_a_clash(registry: dict[str, Any]) -> None:
    task = periodic("deliver outbox", every=timedelta(minutes=1))(outbox_deliver_for_test)
    assert task is outbox_deliver_for_test
    assert job_registry.periodic_jobs()[0].every == timedelta(minutes=1)
    # The same job declared again (a module reloaded) replaces itself.
    periodic("deliver outbox", every=timedelta(minutes=2))(outbox_deliver_for_test)
    assert job_registry.periodic_jobs()[0].every == timedelta(minutes=2)
    with pytest.raises(ValueError, match="already registered"):
        periodic("deliver outbox", every=timedelta(minutes=1))(status_record_for_test)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every": timedelta(0)}, "at least one second"),
        ({"every": timedelta(minutes=1), "offset": timedelta(minutes=1)}, "offset"),
        ({"every": timedelta(minutes=1), "offset": timedelta(seconds=-1)}, "offset"),
    ],
)
def test_periodic_refuses_bad_periods(
    registry: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        periodic("bad", **kwargs)


def test_periodic_needs_a_name(registry: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="name"):
        periodic("", every=timedelta(minutes=1))


@pytest.mark.django_db
def test_scheduler_once_enqueues_the_registered_jobs(
    registry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    periodic("deliver outbox", every=timedelta(minutes=1))(outbox_deliver_for_test)
    call_command("scheduler", "--once")
    call_command("scheduler", "--once")
    out = capsys.readouterr().out
    assert out.count("enqueued deliver outbox") == 1
    assert enqueued_paths() == [outbox_deliver_for_test.module_path]


def test_scheduler_lists_the_periodic_jobs(
    registry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    periodic("deliver outbox", every=timedelta(minutes=1))(outbox_deliver_for_test)
    call_command("scheduler", "--list")
    assert "deliver outbox\tevery 0:01:00\t" in capsys.readouterr().out


@pytest.mark.django_db
def test_pruning_old_slots_keeps_the_current_ones_and_enqueues_nothing_twice() -> None:
    for day in range(40):
        scheduler_tick(now=T0 + timedelta(days=day), jobs=JOBS)
    now = T0 + timedelta(days=39)
    assert ScheduledSlot.objects.filter(job_name="deliver outbox").count() == 40
    deleted = scheduled_slots_prune(now=now, jobs=JOBS)
    assert deleted == 2 * 10  # the slots of days 0..9 start more than 30 days before now
    assert scheduler_tick(now=now, jobs=JOBS) == []
    assert DBTaskResult.objects.count() == 80


@job
def broken_for_test() -> None:
    return None


@pytest.mark.django_db
def test_a_job_that_cannot_be_enqueued_does_not_hold_up_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = PeriodicJob(name="broken", every=timedelta(minutes=1), task=broken_for_test)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(type(broken_for_test), "enqueue", refuse)
    done = scheduler_tick(now=T0, jobs=[broken])
    assert done == []
    assert not ScheduledSlot.objects.filter(job_name="broken").exists()  # rolled back
    monkeypatch.undo()
    assert scheduler_tick(now=T0, jobs=[broken, *JOBS]) == [broken, *JOBS]
