"""`defectdesk backup FILE`: a pg_dump of the database and, from the same snapshot, its facts."""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404 # runs PostgreSQL's own programs with fixed arguments
from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from defectdesk.core.management.args import positive_int
from defectdesk.ops.backup import facts, sellers_sample


def pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for a Django PostgreSQL connection's settings."""
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if settings_dict.get(key):
            env[name] = str(settings_dict[key])
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def pg_program(name: str) -> str:
    """The full path of a PostgreSQL client program, or a refusal naming the package."""
    found = shutil.which(name)
    if found is None:
        raise CommandError(f"{name} is not installed: apt-get install postgresql-client")
    return found


def pg_run(name: str, arguments: list[str], settings_dict: dict[str, Any]) -> None:
    """Run a PostgreSQL client program against a connection's server; a refusal quoting its
    error output when it fails."""
    done = subprocess.run(  # noqa: S603 # nosec B603 # a full path, fixed arguments, no shell
        [pg_program(name), *arguments],
        env=pg_env(settings_dict),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise CommandError(f"{name} failed: {done.stderr.strip()[-2000:]}")


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


class Command(BaseCommand):
    help = (
        "Write a PostgreSQL backup (pg_dump, custom format) to FILE and, from the same snapshot, "
        "FILE.manifest.json: the row count of every table and the health of sampled sellers, "
        "which `defectdesk restore-check` compares after restoring. Safe while the site runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="where to write the dump, e.g. defectdesk-2026-12-06.dump")
        parser.add_argument(
            "--samples",
            type=positive_int,
            default=5,
            help="sellers whose health the manifest records (default: 5)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "defectdesk backup takes PostgreSQL backups; back up an embedded SQLite "
                "database with sqlite3's .backup (docs/operations.md)."
            )
        dump = Path(options["file"]).resolve()
        if dump.exists():
            raise CommandError(f"{dump} exists already; choose a new file name.")
        if not dump.parent.is_dir():
            raise CommandError(f"{dump.parent} is not a folder.")
        as_of = timezone.now().date()
        with transaction.atomic():
            with connection.cursor() as cursor:
                # One snapshot for the dump and for the facts recorded beside it.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            try:
                pg_run(
                    "pg_dump",
                    [
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        f"--file={dump}",
                        str(connection.settings_dict["NAME"]),
                    ],
                    connection.settings_dict,
                )
            except CommandError:
                dump.unlink(missing_ok=True)
                raise
            recorded = facts(sellers_sample(options["samples"]), as_of)
        recorded["dump"] = dump.name
        recorded["taken_at"] = timezone.now().isoformat()
        manifest_path(dump).write_bytes(orjson.dumps(recorded, option=orjson.OPT_INDENT_2))
        rows = sum(recorded["counts"].values())
        self.stdout.write(
            f"backup {dump} ({dump.stat().st_size:,} bytes): {rows:,} rows in "
            f"{len(recorded['counts'])} tables, health of {len(recorded['health'])} sellers "
            f"as of {as_of}; manifest {manifest_path(dump).name}"
        )
