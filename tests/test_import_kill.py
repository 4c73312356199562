"""An import SIGKILLed at random points and re-run ends exactly like an uninterrupted one, on
SQLite and, when DATABASE_URL names a PostgreSQL database, on PostgreSQL (each import in a schema
of its own in that database, dropped afterwards)."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

CLI = [sys.executable, "-m", "defectdesk.cli"]
TABLES = ("ledger_order", "defects_defect", "metrics_dailycounter")
POSTGRES = os.environ.get("DATABASE_URL", "").split(":", 1)[0] in {"postgres", "postgresql"}


def _server_url() -> str:
    """The PostgreSQL database of the run, without query options."""
    return os.environ["DATABASE_URL"].split("?", 1)[0]


def _url(db: Path) -> str:
    """Where a database named by `db` lives: a SQLite file, or a schema of the PostgreSQL one."""
    if POSTGRES:
        return f"{_server_url()}?currentSchema={_schema(db)}"
    return f"sqlite:///{db}"


def _schema(db: Path) -> str:
    return f"kill_{os.getpid()}_{db.stem}".lower()


def _env(tmp: Path, db: Path, url: str = "") -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "DEFECTDESK_EMBEDDED": "1",
        "DEFECTDESK_VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": url or _url(db),
    }


def _cli(tmp: Path, db: Path, *args: str, url: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=tmp, env=_env(tmp, db, url), capture_output=True, text=True, timeout=600
    )


def _database(tmp: Path, name: str) -> Path:
    db = tmp / f"{name}.sqlite3"
    if POSTGRES:
        with psycopg.connect(_server_url(), autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{_schema(db)}" CASCADE')
            con.execute(f'CREATE SCHEMA "{_schema(db)}"')
    for args in (
        ("migrate", "-v0"),
        ("marketplace", "set", "US", "--timezone", "America/Los_Angeles", "--currency", "USD"),
    ):
        done = _cli(tmp, db, *args)
        assert done.returncode == 0, done.stderr
    return db


# Each table with its rows' references to rows the import itself creates (sellers, orders)
# replaced by their natural keys: on PostgreSQL a killed import's transaction used up sequence
# numbers, so the ids of later rows differ from an uninterrupted import's.
QUERIES = {
    "ledger_order": (
        "SELECT t.*, s.external_id AS seller_key FROM ledger_order t "
        "JOIN accounts_seller s ON s.id = t.seller_id"
    ),
    "defects_defect": (
        "SELECT t.*, s.external_id AS seller_key, o.order_ref AS order_key FROM defects_defect t "
        "JOIN accounts_seller s ON s.id = t.seller_id JOIN ledger_order o ON o.id = t.order_id"
    ),
    "metrics_dailycounter": (
        "SELECT t.*, s.external_id AS seller_key FROM metrics_dailycounter t "
        "JOIN accounts_seller s ON s.id = t.seller_id"
    ),
}
SURROGATE = {"id", "seller_id", "order_id"}


def _rows(db: Path) -> dict[str, list[str]]:
    """Each table's rows without surrogate ids, as sorted text."""
    out = {}
    if POSTGRES:
        with psycopg.connect(_server_url()) as con:
            con.execute(f'SET search_path TO "{_schema(db)}"')
            for table, query in QUERIES.items():
                out[table] = _rows_text(con.execute(query))
        return out
    con = sqlite3.connect(db)
    try:
        for table, query in QUERIES.items():
            out[table] = _rows_text(con.execute(query))
        return out
    finally:
        con.close()


def _rows_text(cur: Any) -> list[str]:
    names = [d[0] for d in cur.description]
    return sorted(
        repr([v for n, v in zip(names, row, strict=True) if n not in SURROGATE]) for row in cur
    )


def _digest(rows: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows."""
    return {
        table: (len(found), hashlib.sha256("\n".join(found).encode()).hexdigest())
        for table, found in rows.items()
    }


def _differences(a: dict[str, list[str]], b: dict[str, list[str]]) -> list[str]:
    """A few rows that only one side has, to say what differs."""
    out = []
    for table in a:
        only_a, only_b = set(a[table]) - set(b[table]), set(b[table]) - set(a[table])
        out += [f"{table} killed only: {r}" for r in sorted(only_a)[:3]]
        out += [f"{table} reference only: {r}" for r in sorted(only_b)[:3]]
    return out


@pytest.fixture
def schemas(tmp_path: Path) -> Iterator[None]:
    """Drop the PostgreSQL schemas the test made, whatever its outcome."""
    yield
    if POSTGRES:
        with psycopg.connect(_server_url(), autocommit=True) as con:
            for name in ("reference", "killed"):
                con.execute(f'DROP SCHEMA IF EXISTS "{_schema(tmp_path / name)}" CASCADE')


def _kill_test(tmp: Path, orders: int, kills: int) -> None:
    ledger = tmp / "events.ndjson"
    made = _cli(
        tmp,
        tmp / "gen.sqlite3",
        "generate",
        "--orders",
        str(orders),
        "--end",
        "2026-10-01",
        "--out",
        str(ledger),
        url=f"sqlite:///{tmp / 'gen.sqlite3'}",  # writes only the file
    )
    assert made.returncode == 0, made.stderr
    events = sum(1 for _ in ledger.open())
    reference = _database(tmp, "reference")
    started = time.monotonic()
    whole = _cli(tmp, reference, "import", str(ledger), "--quiet")
    took = time.monotonic() - started
    assert whole.returncode == 0, whole.stderr
    killed = _database(tmp, "killed")
    rng = random.Random(orders * 31 + kills)
    done_kills = 0
    for _ in range(kills):
        proc = subprocess.Popen(
            [*CLI, "import", str(ledger), "--quiet"],
            cwd=tmp,
            env=_env(tmp, killed),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(1.5, max(1.6, took * 0.6)))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            done_kills += 1
        proc.wait(timeout=60)
    final = _cli(tmp, killed, "import", str(ledger), "--quiet")
    assert final.returncode == 0, final.stderr
    engine = "PostgreSQL" if POSTGRES else "SQLite"
    print(
        f"\nkill test ({engine}): {events} events, {done_kills} kills, "
        f"uninterrupted import {took:.1f}s"
    )
    assert done_kills >= 1
    after, expected = _rows(killed), _rows(reference)
    assert _digest(after) == _digest(expected), _differences(after, expected)


@pytest.mark.usefixtures("schemas")
def test_an_import_killed_and_rerun_ends_like_an_uninterrupted_one(tmp_path: Path) -> None:
    _kill_test(tmp_path, orders=5000, kills=3)


@pytest.mark.soak
@pytest.mark.usefixtures("schemas")
def test_an_import_of_100000_events_killed_20_times(tmp_path: Path) -> None:
    _kill_test(tmp_path, orders=17000, kills=20)
