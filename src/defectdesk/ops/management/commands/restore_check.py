"""`defectdesk restore-check FILE`: restore a backup into a scratch database and prove it whole."""

from __future__ import annotations

import os
import subprocess  # nosec B404 # runs PostgreSQL's own programs with fixed arguments
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import dj_database_url
import orjson
import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser
from psycopg import sql

from defectdesk.ops.backup import evidence_check, evidence_storage, facts, facts_compare
from defectdesk.ops.management.commands.backup import manifest_path, pg_run


def _admin(settings_dict: dict[str, Any]) -> psycopg.Connection[Any]:
    """A connection to the scratch server's maintenance database, for CREATE/DROP DATABASE."""
    return psycopg.connect(
        dbname="postgres",
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        autocommit=True,
    )


class Command(BaseCommand):
    help = (
        "Restore a backup made by `defectdesk backup` into a new scratch database and check it: "
        "every table's row count and the sampled sellers' health as recorded in its manifest, "
        "and the SHA-256 of every evidence file in the evidence backup (--evidence, a copy of "
        "MEDIA_ROOT; else the configured store). Exits 1 naming each difference. The scratch "
        "database is dropped afterwards unless --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the dump written by defectdesk backup")
        parser.add_argument(
            "--scratch-database",
            required=True,
            help="URL of a database to create for the check, e.g. "
            "postgres://postgres@127.0.0.1/defectdesk_restore_check (must not exist)",
        )
        parser.add_argument("--manifest", help="the manifest (default: FILE.manifest.json)")
        parser.add_argument("--evidence", help="a folder holding the evidence backup")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        parser.add_argument("--facts", help="(internal) print the facts of this database")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["facts"]:
            self._facts(options)
            return
        dump = Path(options["file"])
        manifest_file = Path(options["manifest"]) if options["manifest"] else manifest_path(dump)
        for path, what in ((dump, "backup"), (manifest_file, "manifest")):
            if not path.is_file():
                raise CommandError(f"The {what} {path} does not exist.")
        try:
            expected = orjson.loads(manifest_file.read_bytes())
            expected["counts"], expected["health"], expected["samples"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise CommandError(f"{manifest_file} is not a backup manifest ({exc}).") from exc
        if options["evidence"] and not Path(options["evidence"]).is_dir():
            raise CommandError(f"--evidence {options['evidence']} is not a folder.")
        scratch: dict[str, Any] = dict(dj_database_url.parse(options["scratch_database"]))
        if scratch["ENGINE"] != "django.db.backends.postgresql" or not scratch.get("NAME"):
            raise CommandError("--scratch-database must be a postgres:// URL naming a database.")
        name = str(scratch["NAME"])
        started = time.monotonic()
        try:
            with _admin(scratch) as admin:
                exists = admin.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                ).fetchone()
                if exists:
                    raise CommandError(
                        f"The scratch database {name} exists already; restore-check only "
                        "restores into a new one (drop it or choose another name)."
                    )
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            raise CommandError(f"Cannot create the scratch database {name}: {exc}") from exc
        try:
            self._check(dump, name, scratch, expected, options, started)
        finally:
            if not options["keep"]:
                with _admin(scratch) as admin:
                    admin.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )

    def _check(
        self,
        dump: Path,
        name: str,
        scratch: dict[str, Any],
        expected: dict[str, Any],
        options: dict[str, Any],
        started: float,
    ) -> None:
        pg_run(
            "pg_restore",
            ["--no-owner", "--no-privileges", "--exit-on-error", "-d", name, str(dump)],
            scratch,
        )
        restore_seconds = time.monotonic() - started
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
        env["DATABASE_URL"] = options["scratch_database"]
        request = {"samples": expected["samples"], "as_of": expected["as_of"]}
        inner = [sys.executable, "-m", "defectdesk.cli", "restore-check", str(dump)]
        inner += ["--scratch-database", options["scratch_database"]]
        inner += ["--facts", orjson.dumps(request).decode()]
        if options["evidence"]:
            inner += ["--evidence", options["evidence"]]
        done = subprocess.run(  # noqa: S603 # nosec B603 # this program, no shell
            inner, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise CommandError(f"Checking the restored database failed: {done.stderr[-2000:]}")
        found = orjson.loads(done.stdout.strip().splitlines()[-1])
        problems = facts_compare(expected, found)
        evidence = found["evidence"]
        problems += [f"evidence file {n} is missing from the backup" for n in evidence["missing"]]
        problems += [
            f"evidence file {n} does not match its SHA-256" for n in evidence["mismatched"]
        ]
        rows = sum(found["counts"].values())
        self.stdout.write(
            f"restored {dump.name} into {name} in {restore_seconds:.1f} s: {rows:,} rows in "
            f"{len(found['counts'])} tables (manifest: {sum(expected['counts'].values()):,}); "
            f"health of {len(found['health'])} sampled sellers as of {expected['as_of']}; "
            f"{evidence['checked']} evidence files checked"
        )
        if problems:
            for problem in problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"The restore check found {len(problems)} problems.")
        self.stdout.write("restore check passed: counts, health and evidence checksums match")

    def _facts(self, options: dict[str, Any]) -> None:
        try:
            request = orjson.loads(options["facts"])
            samples = [(str(s), str(m)) for s, m in request["samples"]]
            as_of = date.fromisoformat(request["as_of"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"--facts is not valid: {exc}") from exc
        found = facts(samples, as_of)
        checked = evidence_check(evidence_storage(options["evidence"]))
        found["evidence"] = {
            "checked": checked.checked,
            "missing": checked.missing,
            "mismatched": checked.mismatched,
        }
        self.stdout.write(orjson.dumps(found).decode())
