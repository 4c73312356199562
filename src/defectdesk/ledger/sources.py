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


def read_ndjson(stream: IO[bytes], *, max_line_bytes: int) -> Iterator[Candidate]:
    """One candidate per non-blank line; a line over the limit is skipped without being held."""
    line_no = 0
    first = True
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        line_no += 1
        if first:
            line = line.removeprefix(b"\xef\xbb\xbf")
            first = False
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            while True:  # drain the rest of the long line in bounded pieces
                rest = stream.readline(max_line_bytes)
                if not rest or rest.endswith(b"\n"):
                    break
            yield Candidate(line_no, None, _too_long(max_line_bytes))
            continue
        text = line.strip()
        if not text:
            continue
        try:
            yield Candidate(line_no, orjson.loads(text))
        except orjson.JSONDecodeError as exc:
            yield Candidate(line_no, None, (FieldError("line", f"is not valid JSON: {exc}"),))


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
