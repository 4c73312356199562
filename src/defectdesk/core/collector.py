"""Pausing Python's cyclic garbage collector around set-based work on many small objects."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_HOLDERS = [0]  # how many `collector_paused` blocks are running, in every thread
_RESUME = [False]  # whether the first of them found the collector on
_SINCE = [0.0]  # when the collector was last paused or run by hand (time.monotonic)
COLLECT_EVERY = 5.0
"""Seconds of pause (blocks of several threads overlapping without a gap) after which a block
that ends runs a collection, so that a steady stream of batches never starves the collector."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with automatic cyclic garbage collection off.

    A batch of events allocates tens of thousands of small containers (parsed events, their
    normalised forms, folded orders, rows); the collector, triggered by those allocations,
    walks them and every long-lived object of the process again and again and finds almost
    nothing to free: what a batch frees, reference counting frees at once. Measured on
    500-event API batches, that walking was about half of the application's CPU per event.

    Blocks may nest and overlap across threads: the first to start turns the collector off
    (if it was on), the last to finish turns it back on; while they overlap without a gap, one
    ending runs a collection every COLLECT_EVERY seconds. A collector that was already off (an
    import pauses it for the whole run) is left off.
    """
    with _LOCK:
        if _HOLDERS[0] == 0:
            _RESUME[0] = gc.isenabled()
            _SINCE[0] = time.monotonic()
            gc.disable()
        _HOLDERS[0] += 1
    try:
        yield
    finally:
        collect = False
        with _LOCK:
            _HOLDERS[0] -= 1
            if _RESUME[0]:
                if _HOLDERS[0] == 0:
                    gc.enable()
                elif time.monotonic() - _SINCE[0] > COLLECT_EVERY:
                    _SINCE[0] = time.monotonic()
                    collect = True
        if collect:
            gc.collect()
