"""Import event files in batches through `events_ingest`, streaming, with progress."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from django.conf import settings

from defectdesk.ledger.ingest import (
    Candidate,
    FoldCache,
    IngestResult,
    events_ingest,
    marketplace_refs,
)
from defectdesk.ledger.sources import SourceError, read_csv, read_ndjson

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
    for batch in _batches(reader(stream, max_line_bytes=limit), size):
        total.merge(events_ingest(batch, markets=markets, durable=False, cache=cache))
        if progress is not None:
            progress(stream.tell() if stream.seekable() else 0, len(batch), total)
    return total


def import_path(
    path: str,
    fmt: str | None = None,
    *,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    kind = detect_format(path, fmt)
    if path == "-":
        return import_stream(sys.stdin.buffer, kind, batch_size=batch_size, progress=progress)
    with open(path, "rb") as stream:
        return import_stream(stream, kind, batch_size=batch_size, progress=progress)


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
