"""`defectdesk import FILE...`: NDJSON or CSV events into the ledger."""

from __future__ import annotations

import errno
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from defectdesk.ledger.importer import ProgressBar, file_size, import_path
from defectdesk.ledger.ingest import IngestResult
from defectdesk.ledger.sources import SourceError

MAX_LISTED = 1000


def _stopped_message(path: str, exc: BaseException) -> str:
    """Why an import stopped on a write that failed, and how to resume it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or any(
        sign in text.lower() for sign in ("disk is full", "no space left", "disk full")
    )
    cause = "the disk is full" if full else "the database refused a write"
    return (
        f"{path}: the import stopped: {cause} ({text}). Every batch committed before this "
        "one is kept and the failed batch was rolled back. "
        + ("Free some space, then " if full else "Once the database accepts writes, ")
        + "run the same import again: events already imported are counted as duplicates "
        "and skipped, so nothing is lost or doubled."
    )


class Command(BaseCommand):
    help = (
        "Import order events from NDJSON or CSV files (format by extension, or --format). "
        "Prints created, duplicate and rejected counts and each reject with its line, id, "
        "field and message; exits 1 if any event was rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="event files; - for stdin")
        parser.add_argument("--format", choices=["ndjson", "csv"], help="override the extension")
        parser.add_argument("--batch-size", type=int, default=None, help="events per transaction")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        total = IngestResult()
        failed = False
        started = time.monotonic()
        for path in options["files"]:
            bar = ProgressBar(path, file_size(path), sys.stderr)
            try:
                result = import_path(
                    path,
                    options["format"],
                    batch_size=options["batch_size"],
                    progress=None if options["quiet"] else bar,
                )
            except (DatabaseError, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno != errno.ENOSPC:
                    bar.done()
                    self.stderr.write(f"{path}: {exc}")
                    failed = True
                    continue
                bar.done()
                raise CommandError(_stopped_message(path, exc), returncode=1) from exc
            except SourceError as exc:
                bar.done()
                self.stderr.write(f"{path}: {exc}")
                failed = True
                continue
            bar.done()
            self.stdout.write(
                f"{path}: {result.created:,} created, {result.duplicates:,} duplicates, "
                f"{len(result.rejected):,} rejected"
            )
            for reject in result.rejected[:MAX_LISTED]:
                for error in reject.errors:
                    self.stdout.write(
                        f"  line {reject.position}: id {reject.event_id or '-'}: "
                        f"{error.field}: {error.message}"
                    )
            if len(result.rejected) > MAX_LISTED:
                self.stdout.write(f"  ... and {len(result.rejected) - MAX_LISTED:,} more rejects")
            total.merge(result)
        elapsed = time.monotonic() - started
        if len(options["files"]) > 1:
            self.stdout.write(
                f"total: {total.created:,} created, {total.duplicates:,} duplicates, "
                f"{len(total.rejected):,} rejected"
            )
        self.stderr.write(f"{total.created + total.duplicates:,} events in {elapsed:.1f}s")
        if failed or total.rejected:
            raise CommandError("some events were rejected", returncode=1)
