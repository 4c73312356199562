"""The API served by `gunicorn -w 2` on a loopback port, against a database both workers share
(the test database on PostgreSQL, a file on SQLite), for tests that need separate processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

PORTS = range(18310, 18390)
ORDER = "111-0000001-0000001"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 18310-18389")


def _database_url(tmp: Path) -> str:
    """The test database when it is PostgreSQL, else a new SQLite file."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return f"sqlite:///{tmp / 'served.sqlite3'}"


def seed(env: dict[str, str]) -> dict[str, Any]:
    """Migrate, create the marketplace, alice of S-1 and an order; the tokens, as JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.served_api"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@contextmanager
def served(tmp: Path, **settings: str) -> Iterator[dict[str, Any]]:
    """Serve the API with `gunicorn -w 2`; yields its base URL and tokens."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(tmp),
        "DEFECTDESK_TESTING": "1",
        "DEFECTDESK_VAR_DIR": str(tmp / "var"),
        "SECRET_KEY": "served-api-test-key-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    if "REDIS_URL" not in settings:
        env.pop("REDIS_URL", None)
    world = seed(env)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-w",
            "2",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "defectdesk.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "gunicorn.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp / "gunicorn.log").read_text()[-4000:])
                time.sleep(0.3)
        yield {"base": base, **world}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _seed_main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    django.setup()
    from django.core.management import call_command

    from defectdesk.accounts.actions import token_create, user_create
    from defectdesk.core.actors import SYSTEM
    from defectdesk.ledger.ingest import Candidate, events_ingest
    from defectdesk.ledger.models import Marketplace

    call_command("migrate", verbosity=0)
    Marketplace.objects.get_or_create(
        code="US",
        defaults={"name": "United States", "timezone": "America/Los_Angeles", "currency": "USD"},
    )
    user_create(
        actor=SYSTEM, username="alice", password="correct-horse-1", seller="S-1", role="owner"
    )
    placed = {
        "id": "evt-served-1",
        "type": "order.placed",
        "occurred_at": "2026-10-01T12:00:00Z",
        "marketplace": "US",
        "seller": "S-1",
        "order": ORDER,
        "data": {
            "buyer": "B-1",
            "fulfillment": "merchant",
            "total": {"amount": "19.99", "currency": "USD"},
            "ship_by": "2026-10-03T23:59:59-07:00",
            "deliver_by": "2026-10-08T23:59:59-07:00",
            "items": [{"sku": "MUG-01", "title": "Mug", "quantity": 1, "price": "19.99"}],
        },
    }
    assert not events_ingest([Candidate(0, placed)]).rejected
    tokens = {
        name: token_create(actor=SYSTEM, name=name, seller="S-1")[1] for name in ("one", "two")
    }
    print(json.dumps({"tokens": tokens, "order": ORDER}))


if __name__ == "__main__":
    _seed_main()
