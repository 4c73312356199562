"""A worker SIGKILLed while posting a webhook loses nothing: the next worker posts it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.db import connection

from tests.webhook_receiver import Receiver, receiving

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "defectdesk.cli"]
EVENTS = 5


def _database_url(tmp: Path) -> str:
    """The test database itself on PostgreSQL (the processes share it); a file on SQLite."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{tmp / 'hooks.sqlite3'}"


def _env(tmp: Path, url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "DEFECTDESK_EMBEDDED": "1",
        "DEFECTDESK_TESTING": "1",
        "DEFECTDESK_VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": url,
        "WEBHOOK_TIMEOUT_SECONDS": "1",
        "WEBHOOK_RETRY_BASE_SECONDS": "1",
    }


def _run(env: dict[str, str], tmp: Path, *args: str) -> str:
    done = subprocess.run(
        args, cwd=tmp, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _worker(env: dict[str, str], tmp: Path, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "worker", "--interval", "0.2", "--worker-id", name],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_while_posting_loses_no_event(tmp_path: Path) -> None:
    url = _database_url(tmp_path)
    env = _env(tmp_path, url)
    world = [sys.executable, "-m", "tests.webhook_world"]
    if url.startswith("sqlite"):
        _run(env, tmp_path, *CLI, "migrate", "-v0")
    # The first post is held for 20 s: the worker is killed while it waits for the answer.
    with receiving(Receiver(delay_first=20)) as receiver:
        receiver.secret = _run(env, tmp_path, *world, "setup", receiver.url, str(EVENTS)).strip()
        first = _worker(env, tmp_path, "w-killed")
        try:
            deadline = time.monotonic() + 60
            while receiver.posts < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert receiver.posts >= 1, "the first worker never posted"
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        second = _worker(env, tmp_path, "w-next")
        try:
            report: dict[str, Any] = {}
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                # What the scheduler's periodic job does once a minute, sooner.
                _run(env, tmp_path, *world, "kick")
                report = orjson.loads(_run(env, tmp_path, *world, "report"))
                if all(d["status"] == "delivered" for d in report["deliveries"]):
                    break
                time.sleep(1)
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                second.wait(timeout=30)
            except subprocess.TimeoutExpired:
                second.kill()
    events = {d["event_id"] for d in report["deliveries"]}
    assert len(events) == EVENTS
    assert {d["status"] for d in report["deliveries"]} == {"delivered"}
    # At least once, deduplicable by id: every event arrived; only the interrupted one twice.
    got = receiver.ids()
    assert set(got) == events
    assert len(got) - len(set(got)) <= 1
    assert all(receiver.signatures_ok)
    outcomes = [(a["delivery__event_id"], a["number"], a["outcome"]) for a in report["attempts"]]
    lost = [o for o in outcomes if o[2] == "lost"]
    assert len(lost) == 1, outcomes
    assert (lost[0][0], lost[0][1] + 1, "delivered") in outcomes
    assert sum(1 for o in outcomes if o[2] == "delivered") == EVENTS
