"""`collector_paused`: the cyclic collector off inside, back as it was after, nesting and
overlapping across threads."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from defectdesk.core.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_resumed_after_even_on_error() -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_threads_resume_only_when_the_last_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collector_paused():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first ended: still paused for this one

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_overlapping_blocks_without_a_gap_still_collect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of several threads that always overlap do not starve the collector."""
    from defectdesk.core import collector

    runs: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *args: runs.append(1) or 0)
    monkeypatch.setattr(collector, "COLLECT_EVERY", 0.0)
    with collector_paused():
        with collector_paused():
            pass  # ends while the outer block still holds the pause
        assert runs == [1]
        assert not gc.isenabled()
    assert runs == [1]  # the last to end turns the collector back on instead
    assert gc.isenabled()
