"""Shared fixtures: the fixed cast (alice, bob, carol, rita, otto) and a US marketplace."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

os.environ.setdefault("DEFECTDESK_TESTING", "1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", help="run slow soak tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _replica_allowed(items)
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _flush_past_audit_triggers() -> None:
    """pytest-django empties the tables after a transactional test with `flush`: TRUNCATE on
    PostgreSQL, which row triggers let through, but DELETE on SQLite, which the audit table's
    triggers refuse; there they are lifted around the flush and put back after it."""
    from django.db.backends.sqlite3.base import DatabaseOperations

    from defectdesk.core.appendonly import create_statements, drop_statements

    original = DatabaseOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        sql = original(self, style, tables, **kwargs)
        return [*drop_statements("sqlite"), *sql, *create_statements("sqlite")] if sql else sql

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Caches are keyed by data versions (ledger and audit ids), which a rolled-back test can
    hand out again: every test starts with an empty cache."""
    from django.core.cache import caches

    for alias in ("default", "local"):
        caches[alias].clear()


@pytest.fixture(autouse=True)
def _api_rate_limits_out_of_the_way(settings: Any) -> None:
    """Suites that call the API thousands of times from one address (the tenant matrix, the
    canary scan) are not rate limited; tests of the limits set their own."""
    settings.API_RATE_LIMIT_PER_TOKEN = 1_000_000
    settings.API_RATE_LIMIT_PER_ADDRESS = 1_000_000


@pytest.fixture(autouse=True)
def _staff_test_sessions_verified(request: pytest.FixtureRequest, monkeypatch: Any) -> None:
    """Test-client sign-ins (login, force_login) of reviewers and operators count as having
    passed the second factor; tests of the requirement sign in with the form instead."""
    from django.test import Client

    from tests.two_factor import mark_verified

    original = Client._login

    def _login(self: Client, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        mark_verified(self, user)

    monkeypatch.setattr(Client, "_login", _login)


@pytest.fixture
def marketplace(db: Any) -> Any:
    from defectdesk.ledger.models import Marketplace

    return Marketplace.objects.create(
        code="US", name="United States", timezone="America/Los_Angeles", currency="USD"
    )


@pytest.fixture
def cast(db: Any, marketplace: Any) -> dict[str, Any]:
    """alice owns S-1, bob is her read-only staff, carol owns S-2, rita reviews, otto operates."""
    from defectdesk.accounts.actions import user_create
    from defectdesk.core.actors import SYSTEM

    pw = "correct-horse-1"
    return {
        "alice": user_create(
            actor=SYSTEM, username="alice", password=pw, seller="S-1", role="owner"
        ),
        "bob": user_create(
            actor=SYSTEM, username="bob", password=pw, seller="S-1", role="read_only"
        ),
        "carol": user_create(
            actor=SYSTEM, username="carol", password=pw, seller="S-2", role="owner"
        ),
        "rita": user_create(actor=SYSTEM, username="rita", password=pw, reviewer=True),
        "otto": user_create(actor=SYSTEM, username="otto", password=pw, operator=True),
    }


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    """A factory of valid wire events with sensible defaults."""
    counter = {"n": 0}

    def make(
        type_: str = "order.placed",
        *,
        order: str = "111-0000001-0000001",
        seller: str = "S-1",
        at: str = "2026-10-01T12:00:00Z",
        event_id: str | None = None,
        marketplace: str = "US",
        **data: Any,
    ) -> dict[str, Any]:
        counter["n"] += 1
        if type_ == "order.placed":
            base: dict[str, Any] = {
                "buyer": "B-1",
                "fulfillment": "merchant",
                "total": {"amount": "19.99", "currency": "USD"},
                "ship_by": "2026-10-03T23:59:59-07:00",
                "deliver_by": "2026-10-08T23:59:59-07:00",
                "items": [{"sku": "MUG-01", "title": "Mug", "quantity": 1, "price": "19.99"}],
            }
            base.update(data)
            data = base
        return {
            "id": event_id or f"evt-{counter['n']:06d}",
            "type": type_,
            "occurred_at": at,
            "marketplace": marketplace,
            "seller": seller,
            "order": order,
            "data": data,
        }

    return make


@pytest.fixture
def worker_alive(db: Any) -> None:
    """A worker's heartbeat, so that /readyz answers ready."""
    from defectdesk.core.jobs.worker import worker_heartbeat

    worker_heartbeat("w-test")


# -- read replica: a run with DATABASE_REPLICA_URL (tests/test_read_replica.py starts one) ------
def _replica_allowed(items: list[pytest.Item]) -> None:
    """With a replica configured, let database tests (and their live servers) reach it too."""
    from django.conf import settings

    if "replica" not in settings.DATABASES:
        return
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        if kwargs.get("databases") in (None, ["default"], ("default",)):
            kwargs["databases"] = ["default", "replica"]
        item.add_marker(pytest.mark.django_db(*(marker.args if marker else ()), **kwargs))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """With a replica configured, point it at the primary's test database, which streaming
    replication copies there (Django's test set-up would have it read the primary instead)."""
    from django.db import connections

    if "replica" in connections.settings:
        replica = connections.settings["replica"]
        replica["NAME"] = connections["default"].settings_dict["NAME"]
        connections["replica"].close()
        connections["replica"].settings_dict = replica
    return django_db_setup
