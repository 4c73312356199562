"""An import SIGKILLed at random points and re-run ends exactly like an uninterrupted one."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "defectdesk.cli"]
TABLES = ("ledger_order", "defects_defect", "metrics_dailycounter")


def _env(tmp: Path, db: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "DEFECTDESK_EMBEDDED": "1",
        "DEFECTDESK_VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": f"sqlite:///{db}",
    }


def _cli(tmp: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=tmp, env=_env(tmp, db), capture_output=True, text=True, timeout=300
    )


def _database(tmp: Path, name: str) -> Path:
    db = tmp / f"{name}.sqlite3"
    for args in (
        ("migrate", "-v0"),
        ("marketplace", "set", "US", "--timezone", "America/Los_Angeles", "--currency", "USD"),
    ):
        done = _cli(tmp, db, *args)
        assert done.returncode == 0, done.stderr
    return db


def _digest(db: Path) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows without their ids, in a fixed order."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for table in TABLES:
            cur = con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cur.description]
            rows = sorted(
                repr([v for n, v in zip(names, row, strict=True) if n != "id"]) for row in cur
            )
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return out
    finally:
        con.close()


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
    print(f"\nkill test: {events} events, {done_kills} kills, uninterrupted import {took:.1f}s")
    assert done_kills >= 1
    assert _digest(killed) == _digest(reference)


def test_an_import_killed_and_rerun_ends_like_an_uninterrupted_one(tmp_path: Path) -> None:
    _kill_test(tmp_path, orders=5000, kills=3)


@pytest.mark.soak
def test_an_import_of_100000_events_killed_20_times(tmp_path: Path) -> None:
    _kill_test(tmp_path, orders=17000, kills=20)
