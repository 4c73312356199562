"""Read events from NDJSON, CSV or a JSON array, streaming, with positions for error reports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO

import orjson

from defectdesk.core.errors import FieldError
from defectdesk.ledger.ingest import Candidate

ENVELOPE_COLUMNS = ("id", "type", "occurred_at", "marketplace", "seller", "order")


class SourceError(Exception):
    """The input as a whole cannot be read (e.g. a CSV header without a required column)."""


def _too_long(limit: int) -> tuple[FieldError, ...]:
    return (
        FieldError(
            "line",
            f"is longer than {limit:,} bytes; split the event or raise INGEST_MAX_LINE_BYTES",
        ),
    )


def _lines(stream: IO[bytes], max_line_bytes: int, chunk: int = 1 << 20) -> Iterator[bytes | None]:
    """The stream's lines without their newline; None for a line over the limit (skipped
    in bounded pieces, never held whole)."""
    pending = b""
    skipping = False
    while True:
        block = stream.read(chunk)
        if not block:
            if pending or skipping:
                yield None if skipping or len(pending) > max_line_bytes else pending
            return
        if skipping:
            end = block.find(b"\n")
            if end < 0:
                continue
            yield None
            skipping = False
            block = block[end + 1 :]
        parts = (pending + block).split(b"\n")
        pending = parts.pop()
        for line in parts:
            yield None if len(line) > max_line_bytes else line
        if len(pending) > max_line_bytes:
            pending = b""
            skipping = True


def ndjson_lines(stream: IO[bytes], *, max_line_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each non-blank line, BOM removed; None for a line over the limit."""
    for line_no, line in enumerate(_lines(stream, max_line_bytes), start=1):
        if line is not None:
            if line_no == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
        yield line_no, line


def ndjson_candidate(
    line_no: int, line: bytes | memoryview | None, *, max_line_bytes: int
) -> Candidate:
    """The candidate of one NDJSON line (None: a line over the limit)."""
    if line is None:
        return Candidate(line_no, None, _too_long(max_line_bytes))
    try:
        return Candidate(line_no, orjson.loads(line))
    except orjson.JSONDecodeError as exc:
        return Candidate(line_no, None, (FieldError("line", f"is not valid JSON: {exc}"),))


def read_ndjson(stream: IO[bytes], *, max_line_bytes: int) -> Iterator[Candidate]:
    """One candidate per non-blank line; a line over the limit is rejected, not held."""
    for line_no, line in ndjson_lines(stream, max_line_bytes=max_line_bytes):
        yield ndjson_candidate(line_no, line, max_line_bytes=max_line_bytes)


def read_csv(stream: IO[bytes], *, max_line_bytes: int) -> Iterator[Candidate]:
    """One candidate per CSV record (BOM, CRLF and quoted newlines handled)."""
    from defectdesk.ledger.schemas import unflatten_csv_row

    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    csv.field_size_limit(max_line_bytes)
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise SourceError(f"the CSV header cannot be read: {exc}") from exc
    header = [h.strip() for h in header]
    missing = [c for c in ENVELOPE_COLUMNS if c not in header]
    if missing:
        raise SourceError(
            f"the CSV header lacks the column(s) {', '.join(missing)}; "
            f"every file needs {', '.join(ENVELOPE_COLUMNS)} and data.* columns"
        )
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Candidate(start, None, (FieldError("line", f"is not valid CSV: {exc}"),))
            continue
        except UnicodeDecodeError as exc:
            yield Candidate(start, None, (FieldError("line", f"is not UTF-8: {exc.reason}"),))
            return
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield Candidate(
                start,
                None,
                (FieldError("line", f"has {len(row)} cells; the header has {len(header)}"),),
            )
            continue
        yield Candidate(start, unflatten_csv_row(dict(zip(header, row, strict=True))))


def read_json_body(body: bytes, *, max_line_bytes: int) -> list[Candidate]:
    """A request body: a JSON array of events, or NDJSON (positions are 0-based indexes)."""
    stripped = body.lstrip()
    if stripped.startswith(b"["):
        try:
            items = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise SourceError(f"the body is not valid JSON: {exc}") from exc
        return [Candidate(i, item) for i, item in enumerate(items)]
    return [
        Candidate(i, c.raw, c.errors)
        for i, c in enumerate(read_ndjson(io.BytesIO(body), max_line_bytes=max_line_bytes))
    ]
