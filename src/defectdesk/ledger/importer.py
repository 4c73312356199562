"""Import event files in batches through `events_ingest`, streaming, with progress."""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson
from asgiref.local import Local
from django.conf import settings
from django.db import connection, connections

from defectdesk.core.bulk import is_postgres
from defectdesk.core.dbstats import analyze_grown
from defectdesk.core.errors import FieldError
from defectdesk.ledger.ingest import (
    LOCK_SLOTS,
    Candidate,
    FoldCache,
    IngestResult,
    events_ingest,
    marketplace_refs,
    seller_slot,
)
from defectdesk.ledger.sources import SourceError, _lines, read_csv, read_ndjson

Progress = Callable[[int, int, IngestResult], None]


def detect_format(path: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in {".ndjson", ".jsonl", ".json"}:
        return "ndjson"
    raise SourceError(f"{path}: cannot tell the format from the extension; pass --format")


def _batches(candidates: Iterator[Candidate], size: int) -> Iterator[list[Candidate]]:
    batch: list[Candidate] = []
    for cand in candidates:
        batch.append(cand)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Events imported between two runs of Python's cyclic garbage collector (see `_collector`).
COLLECT_EVERY_EVENTS = 200_000
# Events imported between two checks of the tables' planner statistics (see `_statistics`).
ANALYZE_EVERY_EVENTS = 100_000


def _every(events: int, action: Callable[[], object]) -> Callable[[int], None]:
    """A function told how many events were just imported, which runs `action` once every
    `events` of them."""
    pending = 0

    def processed(count: int) -> None:
        nonlocal pending
        pending += count
        if pending >= events:
            pending = 0
            action()

    return processed


def _statistics() -> Callable[[int], None]:
    """Every ANALYZE_EVERY_EVENTS events, refresh the statistics of the tables the import has
    grown (`analyze_grown`)."""
    return _every(ANALYZE_EVERY_EVENTS, analyze_grown)


@contextmanager
def _collector() -> Iterator[Callable[[int], None]]:
    """Pause Python's automatic cyclic garbage collection for an import; collect in steps.

    An import keeps tens of thousands of folded orders alive, millions of small objects, and
    allocates many more for each batch. Left automatic, the collector would walk all of them
    again and again (half of an import's CPU time, measured), to find almost nothing: what an
    import frees, reference counting frees at once. The yielded function is told how many
    events were just processed; a full collection runs every COLLECT_EVERY_EVENTS of them, so
    the rare reference cycle is still reclaimed.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield _every(COLLECT_EVERY_EVENTS, gc.collect)
    finally:
        if enabled:
            gc.enable()


def import_stream(
    stream: IO[bytes],
    fmt: str,
    *,
    batch_size: int | None = None,
    progress: Progress | None = None,
    cache: FoldCache | None = None,
) -> IngestResult:
    """Import one stream of events; returns what was created, repeated and rejected."""
    size = batch_size or settings.INGEST_BATCH_SIZE
    limit = settings.INGEST_MAX_LINE_BYTES
    reader = read_csv if fmt == "csv" else read_ndjson
    markets = marketplace_refs()
    total = IngestResult()
    cache = cache if cache is not None else FoldCache(settings.INGEST_FOLD_CACHE)
    analysed = _statistics()
    with _collector() as processed:
        for batch in _batches(reader(stream, max_line_bytes=limit), size):
            total.merge(events_ingest(batch, markets=markets, durable=False, cache=cache))
            processed(len(batch))
            analysed(len(batch))
            if progress is not None:
                progress(stream.tell() if stream.seekable() else 0, len(batch), total)
    return total


def import_path(
    path: str,
    fmt: str | None = None,
    *,
    batch_size: int | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IngestResult:
    """Import one file (or stdin for "-"); NDJSON files on PostgreSQL use parallel workers."""
    kind = detect_format(path, fmt)
    parallel = settings.INGEST_WORKERS if workers is None else workers
    if path == "-":
        return import_stream(sys.stdin.buffer, kind, batch_size=batch_size, progress=progress)
    # Workers need connections of their own: not inside a caller's transaction.
    if parallel > 1 and kind == "ndjson" and is_postgres() and not connection.in_atomic_block:
        return _import_parallel(path, batch_size, progress, parallel)
    with open(path, "rb") as stream:
        return import_stream(stream, kind, batch_size=batch_size, progress=progress)


_SELLER_KEY = b'"seller"'
_INHERITED: list[Any] = []


def _line_slot(line: bytes) -> int:
    """The lock slot of a line's seller, read without parsing the JSON (0 if not found).

    Only a heuristic for spreading the work: whichever worker applies an event, it takes the
    lock of the event's real seller, so a misrouted line is still applied correctly.
    """
    at = line.find(_SELLER_KEY)
    while at >= 0:
        rest = line[at + len(_SELLER_KEY) :].lstrip()
        if rest.startswith(b":"):
            value = rest[1:].lstrip()
            if value.startswith(b'"'):
                end = value.find(b'"', 1)
                if end > 0:
                    return seller_slot(value[1:end].decode(errors="replace"))
            break
        at = line.find(_SELLER_KEY, at + 1)
    return 0


SAMPLE_WINDOWS = 64
SAMPLE_WINDOW_BYTES = 256 * 1024


def slot_assignment(path: str, parts: int) -> list[int]:
    """Which worker takes each lock slot, so that the workers get about the same number of lines.

    Sellers' volumes are skewed (one seller can have a sixth of all orders), so slots are not
    dealt out in turn: lines are counted per slot in windows spread evenly over the file, and
    the slots go, heaviest first, to the worker with the fewest lines so far.
    """
    weights = [0] * LOCK_SLOTS
    size = file_size(path)
    with open(path, "rb") as stream:
        for window in range(SAMPLE_WINDOWS):
            stream.seek(size * window // SAMPLE_WINDOWS)
            lines = stream.read(SAMPLE_WINDOW_BYTES).split(b"\n")
            # The first piece may be the end of a line cut by the seek; the last, its start.
            for line in lines[1:-1] if window else lines[:-1]:
                if line.strip():
                    weights[_line_slot(line)] += 1
    loads = [0] * parts
    assignment = [0] * LOCK_SLOTS
    for slot in sorted(range(LOCK_SLOTS), key=lambda s: (-weights[s], s)):
        worker = min(range(parts), key=lambda w: (loads[w], w))
        assignment[slot] = worker
        loads[worker] += max(weights[slot], 1)
    return assignment


def _part_candidates(
    stream: IO[bytes], part: int, assignment: list[int], limit: int, seen: Any
) -> Iterator[Candidate]:
    loads = orjson.loads
    for line_no, line in enumerate(_lines(stream, limit), start=1):
        if line_no % 4096 == 0:
            seen[part] = stream.tell()
        if line is None:
            if part == 0:
                yield Candidate(
                    line_no,
                    None,
                    (
                        FieldError(
                            "line",
                            f"is longer than {limit:,} "
                            "bytes; split the event or raise "
                            "INGEST_MAX_LINE_BYTES",
                        ),
                    ),
                )
            continue
        if line_no == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip() or assignment[_line_slot(line)] != part:
            continue
        try:
            yield Candidate(line_no, loads(line))
        except orjson.JSONDecodeError as exc:
            yield Candidate(line_no, None, (FieldError("line", f"is not valid JSON: {exc}"),))


def _import_part(
    path: str,
    size: int,
    part: int,
    parts: int,
    assignment: list[int],
    done: Any,
    seen: Any,
    out: Any,
) -> None:
    """One worker process: the lines of its partition, in batches, through events_ingest."""
    # Database connections inherited through fork belong to the parent (another thread may
    # have reopened one): set them aside untouched, and let this process open its own.
    _INHERITED.append(connections._connections)  # type: ignore[attr-defined]
    connections._connections = Local(connections.thread_critical)  # type: ignore[attr-defined]
    try:
        markets = marketplace_refs()
        cache = FoldCache(max(settings.INGEST_FOLD_CACHE // parts, 1000))
        total = IngestResult()
        analysed = _statistics()
        with open(path, "rb") as stream, _collector() as processed:
            limit = settings.INGEST_MAX_LINE_BYTES
            cands = _part_candidates(stream, part, assignment, limit, seen)
            for batch in _batches(cands, size):
                total.merge(events_ingest(batch, markets=markets, durable=False, cache=cache))
                processed(len(batch))
                analysed(len(batch))
                with done.get_lock():
                    done.value += len(batch)
            seen[part] = stream.tell()
        out.put((part, total, None))
    except Exception as exc:  # reported to the parent, which raises it
        out.put((part, None, f"{type(exc).__name__}: {exc}"))
    finally:
        connections.close_all()


def _import_parallel(
    path: str, batch_size: int | None, progress: Progress | None, parts: int
) -> IngestResult:
    """Import one NDJSON file with `parts` processes, each taking the sellers of its slots."""
    ctx = multiprocessing.get_context("fork")
    done = ctx.Value("q", 0)
    seen = ctx.Array("q", parts)
    out = ctx.Queue()
    size = batch_size or settings.INGEST_BATCH_SIZE
    assignment = slot_assignment(path, parts)
    connections.close_all()  # children open their own connections
    workers = [
        ctx.Process(
            target=_import_part, args=(path, size, part, parts, assignment, done, seen, out)
        )
        for part in range(parts)
    ]
    for worker in workers:
        worker.start()
    results: dict[int, IngestResult] = {}
    errors: list[str] = []
    reported = 0
    try:
        while len(results) + len(errors) < parts:
            try:
                part, result, error = out.get(timeout=0.5)
            except queue.Empty:
                if not any(w.is_alive() for w in workers) and out.empty():
                    errors.append("an import worker stopped without a result")
                    break
            else:
                if error is not None:
                    errors.append(error)
                else:
                    results[part] = result
            if progress is not None:
                now = done.value
                position = sum(int(v) for v in seen[:]) // parts
                progress(position, now - reported, _merged(results.values()))
                reported = now
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.terminate()
    if errors:
        raise RuntimeError("; ".join(errors))
    return _merged(results.values())


def _merged(results: Iterable[IngestResult]) -> IngestResult:
    total = IngestResult()
    for result in results:
        total.merge(result)
    total.rejected.sort(key=lambda r: r.position)
    return total


class ProgressBar:
    """A one-line progress bar on a terminal stream (quiet when it is not a terminal)."""

    def __init__(self, label: str, total_bytes: int, out: IO[str]) -> None:
        self.label = label
        self.total = max(total_bytes, 1)
        self.out = out
        self.start = time.monotonic()
        self.events = 0
        self.tty = out.isatty()

    def __call__(self, position: int, batch: int, result: IngestResult) -> None:
        self.events += batch
        if not self.tty:
            return
        share = min(position / self.total, 1.0) if position else 0.0
        elapsed = max(time.monotonic() - self.start, 1e-6)
        filled = int(share * 30)
        self.out.write(
            f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {share:6.1%} "
            f"{self.events:,} events {self.events / elapsed:,.0f}/s "
            f"({len(result.rejected):,} rejected)"
        )
        self.out.flush()

    def done(self) -> None:
        if self.tty:
            self.out.write("\n")


def file_size(path: str) -> int:
    try:
        return os.path.getsize(path) if path != "-" else 0
    except OSError:
        return 0
