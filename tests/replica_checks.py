"""Checks of the read replica, run by tests/test_read_replica.py inside a pytest run whose
DATABASE_REPLICA_URL names a real streaming replica (the file is not collected otherwise)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connections

from defectdesk.core import replica as replica_module
from defectdesk.ledger.models import Order
from tests.pgcluster import REPLICA_PORT, Clusters, clusters_dir, pg_bindir
from tests.test_appeal_support import client_for, frozen, media  # noqa: F401
from tests.test_web_support import shop

pytestmark = [
    pytest.mark.usefixtures("media", "frozen"),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


def _orders(client: Any) -> Any:
    """The order list, computed afresh (pages are otherwise cached by data version)."""
    for alias in ("default", "local"):
        caches[alias].clear()
    response = client.get("/orders/")
    assert response.status_code == 200
    assert "111-0000001-0000001" in response.content.decode()
    return response


def _replica_caught_up(count: int) -> None:
    deadline = time.monotonic() + 10
    while Order.objects.using("replica").count() < count:
        assert time.monotonic() < deadline, "the replica did not catch up within 10 s"
        time.sleep(0.05)
        connections["replica"].close()


@pytest.fixture
def replica_queries() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    replica_module._down_until = 0.0
    with connections["replica"].execute_wrapper(record):
        yield seen
    replica_module._down_until = 0.0


def test_the_replica_is_a_standby_of_the_primary() -> None:
    assert "replica" in settings.DATABASES
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        in_recovery, name = cursor.fetchone()
    assert in_recovery is True
    assert name == connections["default"].settings_dict["NAME"]


def test_merchant_pages_read_from_the_replica(
    cast: Any, make_event: Any, replica_queries: list[str]
) -> None:
    shop(make_event)
    _replica_caught_up(Order.objects.count())
    alice = client_for(cast["alice"])
    response = _orders(alice)
    assert response.wsgi_request.read_database == "replica"
    assert any("ledger_order" in sql for sql in replica_queries), replica_queries


def test_a_write_keeps_the_browser_on_the_primary(
    cast: Any, make_event: Any, replica_queries: list[str]
) -> None:
    shop(make_event)
    alice = client_for(cast["alice"])
    response = alice.post("/settings/you/", {"time_zone": "Asia/Shanghai"})
    assert response.status_code in (200, 302)
    assert response.cookies[replica_module.STICKY_COOKIE]["max-age"] == 10
    replica_queries.clear()
    after = _orders(alice)
    assert after.wsgi_request.read_database == "default"
    assert replica_queries == []


def test_the_api_and_sign_in_read_the_primary(
    cast: Any, make_event: Any, replica_queries: list[str]
) -> None:
    shop(make_event)
    alice = client_for(cast["alice"])
    assert alice.get("/api/v1/orders").status_code == 200
    assert alice.get("/signin/").status_code in (200, 302)
    assert replica_queries == []


def test_a_stopped_replica_falls_back_to_the_primary(
    cast: Any, make_event: Any, replica_queries: list[str]
) -> None:
    shop(make_event)
    _replica_caught_up(Order.objects.count())
    alice = client_for(cast["alice"])
    assert _orders(alice).wsgi_request.read_database == "replica"
    bindir = pg_bindir()
    assert bindir is not None
    clusters = Clusters(Path(os.environ.get("DEFECTDESK_TEST_PG_DIR") or clusters_dir()), bindir)
    clusters.stop(clusters.replica)
    try:
        started = time.monotonic()
        for _ in range(3):
            assert _orders(alice).wsgi_request.read_database == "default"
        # Once known down, pages do not wait on it.
        assert time.monotonic() - started < 5
    finally:
        clusters.start(clusters.replica)
    # After REPLICA_RETRY_SECONDS the replica is tried again.
    replica_module._down_until = 0.0
    deadline = time.monotonic() + 30
    while _orders(alice).wsgi_request.read_database != "replica":
        assert time.monotonic() < deadline, "the replica was not used again after it restarted"
        replica_module._down_until = 0.0
        time.sleep(0.5)


def test_a_broken_replica_connection_is_replaced(
    cast: Any, make_event: Any, replica_queries: list[str]
) -> None:
    shop(make_event)
    _replica_caught_up(Order.objects.count())
    alice = client_for(cast["alice"])
    assert _orders(alice).wsgi_request.read_database == "replica"
    pid = connections["replica"].connection.info.backend_pid
    subprocess.run(
        [
            str(pg_bindir() / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(REPLICA_PORT),
            "-U",  # type: ignore[operator]
            "postgres",
            "-XAtqc",
            f"SELECT pg_terminate_backend({pid})",
        ],
        check=True,
    )
    _orders(alice)
