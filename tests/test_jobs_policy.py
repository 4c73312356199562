"""Pure job arithmetic: backoff between tries and the slots of periodic jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from defectdesk.core.jobs.policy import RetryPolicy, slot_start


def test_backoff_doubles_from_the_base_and_stops_at_the_cap() -> None:
    policy = RetryPolicy(
        max_attempts=10, backoff=timedelta(seconds=30), backoff_max=timedelta(minutes=5)
    )
    delays = [policy.delay(n).total_seconds() for n in range(1, 7)]
    assert delays == [30, 60, 120, 240, 300, 300]
    assert policy.delay(10_000) == timedelta(minutes=5)


def test_a_failure_is_final_only_on_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up_after(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"backoff": timedelta(seconds=-1)}, {"lease": timedelta(0)}],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_slots_start_on_whole_periods_from_the_epoch() -> None:
    at = datetime(2026, 11, 26, 10, 7, 59, 999_999, tzinfo=UTC)
    assert slot_start(at, timedelta(minutes=1)) == datetime(2026, 11, 26, 10, 7, tzinfo=UTC)
    assert slot_start(at, timedelta(minutes=5)) == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    assert slot_start(at, timedelta(days=1)) == datetime(2026, 11, 26, tzinfo=UTC)


def test_a_slot_boundary_belongs_to_the_slot_it_starts() -> None:
    boundary = datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    assert slot_start(boundary, timedelta(minutes=5)) == boundary
    just_before = boundary - timedelta(microseconds=1)
    assert slot_start(just_before, timedelta(minutes=5)) == datetime(
        2026, 11, 26, 10, 0, tzinfo=UTC
    )


def test_an_offset_shifts_daily_slots() -> None:
    at = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
    start = slot_start(at, timedelta(days=1), timedelta(hours=1))
    assert start == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def test_slots_do_not_depend_on_the_zone_of_now() -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 11, 26, 2, 7, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert slot_start(local, timedelta(minutes=5)) == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)


def test_naive_times_and_empty_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        slot_start(datetime(2026, 11, 26), timedelta(minutes=1))
    with pytest.raises(ValueError, match="positive"):
        slot_start(datetime(2026, 11, 26, tzinfo=UTC), timedelta(0))
