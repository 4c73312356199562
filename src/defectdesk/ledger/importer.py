"""Import event files in batches through `events_ingest`, streaming, with progress."""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import sys
import time
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson
from django.conf import settings
from django.db import connection, connections

from defectdesk.core.bulk import is_postgres
from defectdesk.core.dbstats import analyze_grown
from defectdesk.ledger.ingest import (
    LOCK_SLOTS,
    Candidate,
    FoldCache,
    IngestResult,
    events_ingest,
    marketplace_refs,
    seller_slot,
)
from defectdesk.ledger.sources import (
    SourceError,
    ndjson_candidate,
    ndjson_lines,
    read_csv,
)

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


def _order_group(line: bytes | None) -> tuple[int, int | None]:
    """(the group of the line's order, a hash of its event id), read from one NDJSON line.

    The group is a checksum of the marketplace and order (0 for a line that names none); two
    orders may share a group, which only puts them in the same batches.
    """
    if line is None:
        return 0, None
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError:
        return 0, None
    if not isinstance(raw, dict):
        return 0, None
    market, order, event_id = raw.get("marketplace"), raw.get("order"), raw.get("id")
    group = 0
    if isinstance(market, str) and isinstance(order, str):
        group = zlib.crc32(f"{market}\x00{order}".encode(errors="replace"))
    return group, hash(event_id) if isinstance(event_id, str) else None


class _Window:
    """The lines read ahead, packed: their bytes end to end and, in typed arrays, each line's
    number, span and order group (plus the first group of each event id): about 60 bytes a
    line beyond its text, a third of what a bytes object and a tuple per line take."""

    def __init__(self) -> None:
        self._empty()

    def _empty(self) -> None:
        self.text = bytearray()
        self.starts = array("q")  # span of each line in `text`; -1 for a line over the limit
        self.ends = array("q")
        self.numbers = array("q")
        self.groups = array("I")
        self.first_group: dict[int, int] = {}  # event id hash -> group of its first line

    def __len__(self) -> int:
        return len(self.numbers)

    def add(self, line_no: int, line: bytes | None) -> None:
        group, id_hash = _order_group(line)
        if id_hash is not None:
            group = self.first_group.setdefault(id_hash, group)
        if line is None:
            self.starts.append(-1)
        else:
            self.starts.append(len(self.text))
            self.text += line
        self.ends.append(len(self.text))
        self.numbers.append(line_no)
        self.groups.append(group)

    def batches(self, size: int, max_line_bytes: int) -> Iterator[list[Candidate]]:
        """The lines sorted stably by group, parsed, `size` to a batch; then empty."""
        view = memoryview(self.text)
        order = sorted(range(len(self)), key=self.groups.__getitem__)
        self.first_group.clear()  # no longer needed: free it while the batches are applied
        for at in range(0, len(order), size):
            batch = []
            for i in order[at : at + size]:
                start = self.starts[i]
                line = None if start < 0 else view[start : self.ends[i]]
                batch.append(ndjson_candidate(self.numbers[i], line, max_line_bytes=max_line_bytes))
            yield batch
        self._empty()


def regrouped_batches(
    lines: Iterable[tuple[int, bytes | None]], size: int, ahead: int, max_line_bytes: int
) -> Iterator[list[Candidate]]:
    """Batches of `size` candidates from NDJSON lines read `ahead` at a time and grouped by order.

    An export is in time order and an order's events are spread over days of it. Cut straight
    into batches, an order would be touched by a batch on each of those days, and every touch
    rewrites its row, its defects and its counters (on the 1,000,000-order ledger, 3.8 touches
    per order at 20,000 events a batch; 1.3 when 400,000 lines are read ahead). The lines read
    ahead are sorted by order, stably: the events of one order keep their order, and a line
    that repeats an event id stays with the first line of that id, so duplicates and clashes
    are told apart exactly as in a straight cut. Only the raw lines are held while reading
    ahead, packed (`_Window`); each batch is parsed when it is handed out.
    """
    window = _Window()
    for line_no, line in lines:
        window.add(line_no, line)
        if len(window) >= ahead:
            yield from window.batches(size, max_line_bytes)
    yield from window.batches(size, max_line_bytes)


# Events imported between two runs of Python's cyclic garbage collector (see `_collector`).
COLLECT_EVERY_EVENTS = 1_000_000
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
    markets = marketplace_refs()
    total = IngestResult()
    cache = cache if cache is not None else FoldCache(settings.INGEST_FOLD_CACHE)
    analysed = _statistics()
    with _collector() as processed:
        if fmt == "csv":
            batches = _batches(read_csv(stream, max_line_bytes=limit), size)
        else:
            lines = ndjson_lines(stream, max_line_bytes=limit)
            batches = regrouped_batches(lines, size, settings.INGEST_READ_AHEAD, limit)
        for batch in batches:
            total.merge(events_ingest(batch, markets=markets, durable=False, cache=cache))
            processed(len(batch))
            analysed(len(batch))
            if progress is not None:
                progress(stream.tell() if stream.seekable() else 0, len(batch), total)
    total.rejected.sort(key=lambda r: r.position)
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


def _part_lines(
    stream: IO[bytes], part: int, assignment: list[int], limit: int, seen: Any
) -> Iterator[tuple[int, bytes | None]]:
    """The lines of one worker's slots (a line over the limit goes to worker 0)."""
    for line_no, line in ndjson_lines(stream, max_line_bytes=limit):
        if line_no % 4096 == 0:
            seen[part] = stream.tell()
        if line is None:
            if part == 0:
                yield line_no, None
        elif assignment[_line_slot(line)] == part:
            yield line_no, line


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
    for inherited in connections.all(initialized_only=True):
        _INHERITED.append(inherited.connection)  # kept referenced: never closed from here
        inherited.connection = None
    try:
        markets = marketplace_refs()
        cache = FoldCache(max(settings.INGEST_FOLD_CACHE // parts, 1000))
        total = IngestResult()
        analysed = _statistics()
        with open(path, "rb") as stream, _collector() as processed:
            limit = settings.INGEST_MAX_LINE_BYTES
            lines = _part_lines(stream, part, assignment, limit, seen)
            ahead = settings.INGEST_READ_AHEAD
            for batch in regrouped_batches(lines, size, ahead, limit):
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


SAMPLE_BYTES = 1 << 20


def estimate_events(path: str, fmt: str | None = None) -> int | None:
    """About how many events a file holds, from the lines of its first MiB (None for stdin
    or an unreadable file): enough for a progress bar and an ETA, at no real cost."""
    if path == "-":
        return None
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as stream:
            sample = stream.read(SAMPLE_BYTES)
    except OSError:
        return None
    lines = sample.count(b"\n")
    if len(sample) >= size:
        lines += 0 if sample.endswith(b"\n") or not sample else 1
        estimate = lines
    else:
        estimate = int(size * max(lines, 1) / len(sample))
    csv_file = fmt == "csv" or (fmt is None and path.lower().endswith(".csv"))
    return max(estimate - (1 if csv_file else 0), 0)


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"


class ProgressBar:
    """A one-line progress bar of the events applied, with their rate and an ETA (on a
    terminal only; quiet otherwise). It moves with the batches committed, not with the bytes
    read ahead of them."""

    def __init__(self, label: str, total_events: int | None, out: IO[str]) -> None:
        self.label = label
        self.total = total_events
        self.out = out
        self.start = time.monotonic()
        self.events = 0
        self.tty = out.isatty()

    def line(self, rejected: int, now: float | None = None) -> str:
        elapsed = max((now if now is not None else time.monotonic()) - self.start, 1e-6)
        rate = self.events / elapsed
        count = f"{self.events:,} event{'' if self.events == 1 else 's'}"
        if self.total:
            # An estimate: it may be passed before the end; the bar then waits at 99%.
            share = min(self.events / self.total, 0.99)
            filled = int(share * 30)
            left = max(self.total - self.events, 0)
            eta = _duration(left / rate) if rate > 0 and left else "-"
            head = f"[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {count} of ~{self.total:,}"
            tail = f" ETA {eta}"
        else:
            head, tail = count, ""
        return f"{self.label} {head} {rate:,.0f}/s{tail} ({rejected:,} rejected)"

    def __call__(self, position: int, batch: int, result: IngestResult) -> None:
        self.events += batch
        if not self.tty:
            return
        self.out.write("\r" + self.line(len(result.rejected)) + "\033[K")
        self.out.flush()

    def done(self) -> None:
        if self.tty:
            self.out.write("\n")


def file_size(path: str) -> int:
    try:
        return os.path.getsize(path) if path != "-" else 0
    except OSError:
        return 0
