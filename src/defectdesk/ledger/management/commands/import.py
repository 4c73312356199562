"""`defectdesk import FILE...`: NDJSON or CSV events into the ledger.

Exit codes (docs/ingestion.md): 0 every event applied or a duplicate; 1 some events were
rejected; 2 the format cannot be told (stdin or an unknown extension without --format);
3 a file cannot be opened; 4 a file cannot be read as events (e.g. a bad CSV header).
"""

from __future__ import annotations

import errno
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from defectdesk.ledger.importer import ProgressBar, estimate_events, import_path
from defectdesk.ledger.ingest import IngestResult
from defectdesk.ledger.sources import SourceError

MAX_LISTED = 1000
EXIT_REJECTED = 1
EXIT_FORMAT_UNKNOWN = 2
EXIT_CANNOT_OPEN = 3
EXIT_UNREADABLE = 4
EXTENSIONS = (".ndjson", ".jsonl", ".json", ".csv")


def plural(count: int, noun: str) -> str:
    """ "1 event", "2 events", "1,000 events"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _plain(text: str) -> str:
    return text


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
        "field and message. Exit codes: 0 all applied; 1 some events rejected; 2 the format "
        "cannot be told (stdin or an unknown extension without --format); 3 a file cannot be "
        "opened; 4 a file cannot be read as events (e.g. a bad CSV header)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="event files; - for stdin")
        parser.add_argument(
            "--format", choices=["ndjson", "csv"], help="the files' format (needed for stdin)"
        )
        parser.add_argument("--batch-size", type=int, default=None, help="events per transaction")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        # Mirror mode: Amazon's own documents (docs/mirror.md).
        parser.add_argument("--amazon", metavar="REPORT_TYPE", help="read Amazon documents")
        parser.add_argument("--seller", help="with --amazon: the seller whose account it is")
        parser.add_argument("--site", help="with --amazon: amazon.com (default), amazon.co.uk, ...")
        parser.add_argument("--from", help="with --amazon: the report window's first day")
        parser.add_argument("--to", help="with --amazon: the report window's last day")

    def _format_check(self, files: list[str], explicit: str | None) -> None:
        if explicit:
            return
        for path in files:
            if path == "-":
                raise CommandError(
                    "stdin (-) has no file name to tell its format from: pass --format ndjson "
                    "or --format csv",
                    returncode=EXIT_FORMAT_UNKNOWN,
                )
            if not path.lower().endswith(EXTENSIONS):
                raise CommandError(
                    f"{path}: cannot tell the format from the extension (.ndjson, .jsonl, "
                    ".json or .csv): pass --format ndjson or --format csv",
                    returncode=EXIT_FORMAT_UNKNOWN,
                )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("amazon"):
            from defectdesk.mirror.cli import amazon_import_files

            amazon_import_files(options, self.stdout)
            return
        files: list[str] = options["files"]
        self._format_check(files, options["format"])
        total = IngestResult()
        problems: list[tuple[int, str]] = []
        started = time.monotonic()
        for path in files:
            if options["quiet"]:
                bar = None
            else:
                bar = ProgressBar(path, estimate_events(path, options["format"]), sys.stderr)
            try:
                result = import_path(
                    path, options["format"], batch_size=options["batch_size"], progress=bar
                )
            except FileNotFoundError:
                problems.append((EXIT_CANNOT_OPEN, f"{path}: no such file"))
                continue
            except IsADirectoryError:
                problems.append((EXIT_CANNOT_OPEN, f"{path}: is a directory, not a file"))
                continue
            except PermissionError:
                problems.append((EXIT_CANNOT_OPEN, f"{path}: permission denied"))
                continue
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    raise CommandError(_stopped_message(path, exc), returncode=1) from exc
                problems.append((EXIT_CANNOT_OPEN, f"{path}: cannot be opened: {exc.strerror}"))
                continue
            except DatabaseError as exc:
                raise CommandError(_stopped_message(path, exc), returncode=1) from exc
            except SourceError as exc:
                problems.append((EXIT_UNREADABLE, f"{path}: {exc}"))
                continue
            finally:
                if bar is not None:
                    bar.done()
            self.stdout.write(
                f"{path}: {result.created:,} created, {plural(result.duplicates, 'duplicate')}, "
                f"{len(result.rejected):,} rejected"
            )
            for reject in result.rejected[:MAX_LISTED]:
                for error in reject.errors:
                    self.stdout.write(
                        f"  line {reject.position}: id {reject.event_id or '-'}: "
                        f"{error.field}: {error.message}"
                    )
            if len(result.rejected) > MAX_LISTED:
                more = len(result.rejected) - MAX_LISTED
                self.stdout.write(f"  ... and {plural(more, 'more reject')}")
            total.merge(result)
        elapsed = time.monotonic() - started
        if len(files) > 1:
            self.stdout.write(
                f"total: {total.created:,} created, {plural(total.duplicates, 'duplicate')}, "
                f"{len(total.rejected):,} rejected"
            )
        done = total.created + total.duplicates
        # A timing, not an error: printed without the error colour.
        self.stderr.write(f"{plural(done, 'event')} in {elapsed:.1f}s", style_func=_plain)
        if len(problems) == 1:
            raise CommandError(problems[0][1], returncode=problems[0][0])
        if problems:
            for _, message in problems:
                self.stderr.write(message)
            raise CommandError(
                f"{plural(len(problems), 'file')} could not be imported",
                returncode=problems[0][0],
            )
        if total.rejected:
            raise CommandError(
                f"{plural(len(total.rejected), 'event')} rejected (listed above)",
                returncode=EXIT_REJECTED,
            )
