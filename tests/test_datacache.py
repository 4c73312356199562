"""Cached results are keyed on the data version of what they show: a change to a seller is
seen on that seller's pages at once and leaves every other seller's entries in place."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import translation

from defectdesk.accounts.models import Seller
from defectdesk.core.actors import SYSTEM
from defectdesk.core.audit import audit_record
from defectdesk.core.datacache import (
    SHOWS_EVERY_SELLER,
    SHOWS_SHARED,
    cached,
    cached_each,
    data_changed,
    data_changes_fold,
    shows_seller,
    version_of,
)
from defectdesk.core.models import DataChange
from defectdesk.ledger.ingest import Candidate, events_ingest


def _seller(external_id: str) -> int:
    return int(Seller.objects.get_or_create(external_id=external_id)[0].pk)


def _ingest(make_event: Any, order: str, seller: str) -> None:
    assert not events_ingest([Candidate(0, make_event(order=order, seller=seller))]).rejected


def test_a_cached_result_lasts_until_its_sellers_data_changes(
    marketplace: Any, make_event: Any
) -> None:
    _ingest(make_event, "O-1", "S-1")
    _ingest(make_event, "O-2", "S-2")
    one, two = _seller("S-1"), _seller("S-2")
    calls: list[str] = []

    def read(seller: int, parts: object = None) -> str:
        def compute() -> str:
            calls.append(f"{seller}")
            return f"result {len(calls)}"

        return cached("test", shows_seller(seller), parts, compute, 60)

    assert read(one) == read(one) == "result 1"
    assert read(two) == "result 2"
    assert read(one, "page 2") == "result 3"  # other parts, another entry
    with translation.override("de"):
        assert read(one) == "result 4"  # rendered text depends on the language
    _ingest(make_event, "O-3", "S-2")  # an event of the other seller
    assert read(one) == "result 1"  # kept
    assert read(two) == "result 5"  # recomputed
    _ingest(make_event, "O-4", "S-1")
    assert read(one) == "result 6"
    assert read(two) == "result 5"
    audit_record(actor=SYSTEM, action="test", object_type="test", object_id=1, seller_id=one)
    assert read(one) == "result 7"  # an audited action on the seller
    assert read(two) == "result 5"
    # A change to data of no seller (a policy, a marketplace) may show on every seller's page.
    audit_record(actor=SYSTEM, action="test", object_type="test", object_id=2)
    assert read(one) == "result 8"
    assert read(two) == "result 9"


def test_what_spans_sellers_changes_with_any_of_them(marketplace: Any, make_event: Any) -> None:
    _ingest(make_event, "O-1", "S-1")
    every, shared = version_of(SHOWS_EVERY_SELLER), version_of(SHOWS_SHARED)
    _ingest(make_event, "O-2", "S-2")
    assert version_of(SHOWS_EVERY_SELLER) != every
    assert version_of(SHOWS_SHARED) == shared  # only sellers' data changed


def test_a_lower_id_committed_after_a_higher_one_still_changes_the_version(db: Any) -> None:
    # Two writers of one seller: the one that took the lower id commits last.
    DataChange.objects.create(id=1001, seller_id=7)
    seen = version_of(shows_seller(7))
    DataChange.objects.create(id=1000, seller_id=7)
    assert version_of(shows_seller(7)) != seen


def test_what_a_rolled_back_transaction_saw_is_never_taken_for_a_later_change(db: Any) -> None:
    before = version_of(shows_seller(7))
    with pytest.raises(RuntimeError), transaction.atomic():
        data_changed([7])
        inside = version_of(shows_seller(7))
        raise RuntimeError("rolled back")
    assert version_of(shows_seller(7)) == before
    with transaction.atomic():
        data_changed([7])
    assert version_of(shows_seller(7)) not in (before, inside)


def test_folding_keeps_every_version(db: Any) -> None:
    for seller in (7, 7, 7, 8, 0, 0):
        data_changed([seller])
    kept = {s: version_of(shows_seller(s)) for s in (7, 8, 9)}
    every = version_of(SHOWS_EVERY_SELLER)
    assert data_changes_fold() == 3  # 7, 0 and every seller's row had more than one row
    assert DataChange.objects.count() == 4
    assert {s: version_of(shows_seller(s)) for s in (7, 8, 9)} == kept
    assert version_of(SHOWS_EVERY_SELLER) == every
    data_changed([7])
    assert version_of(shows_seller(7)) != kept[7]


def test_results_of_several_sellers_are_kept_each_under_its_own_version(db: Any) -> None:
    computed: list[list[int]] = []

    def compute(missing: list[int]) -> dict[int, str]:
        computed.append(missing)
        return {s: f"{s}@{len(computed)}" for s in missing}

    assert cached_each("test", "x", [7, 8], compute, 60) == {7: "7@1", 8: "8@1"}
    data_changed([8])
    assert cached_each("test", "x", [7, 8], compute, 60) == {7: "7@1", 8: "8@2"}
    assert computed == [[7, 8], [8]]


def test_a_page_shows_its_sellers_change_at_once_and_keeps_the_others(
    cast: dict[str, Any], make_event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from defectdesk.web import health

    _ingest(make_event, "O-1", "S-1")
    _ingest(make_event, "O-2", "S-2")
    computed: list[str] = []
    original = health._health_computed

    def counted(scope: Any, as_of: Any) -> Any:
        computed.append(scope.seller.external_id)
        return original(scope, as_of)

    monkeypatch.setattr(health, "_health_computed", counted)
    alice, carol = Client(), Client()
    assert alice.login(username="alice", password="correct-horse-1")
    assert carol.login(username="carol", password="correct-horse-1")
    for browser in (alice, carol, alice, carol):
        assert browser.get("/").status_code == 200
    assert computed == ["S-1", "S-2"]  # each rendered once
    _ingest(make_event, "O-3", "S-1")
    assert alice.get("/").status_code == 200
    assert carol.get("/").status_code == 200
    assert computed == ["S-1", "S-2", "S-1"]  # S-1's page again, S-2's from the cache


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_seller_each_change_its_version_when_they_commit() -> None:
    """Under PostgreSQL: the writer that took the lower id commits last, after a reader kept a
    version; its commit still changes the version, and neither writer waited for the other."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is no interleaving to test")
    took, go = threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                data_changed([7])  # the lower id
                took.set()
                assert go.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert took.wait(10)
    with transaction.atomic():
        data_changed([7])  # a higher id, committed first: not blocked by the open writer
    seen = version_of(shows_seller(7))
    go.set()
    thread.join(10)
    assert version_of(shows_seller(7)) != seen
    assert DataChange.objects.filter(seller_id=7).count() == 2
    data_changes_fold()
    assert DataChange.objects.filter(seller_id=7).count() == 1


def test_versions_are_read_from_the_database_the_page_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where a page reads the ledger from a replica, it reads the versions there too: never a
    version newer than the data it keys."""
    from defectdesk.core import replica
    from defectdesk.core.models import AuditEvent
    from defectdesk.ledger.models import Order

    monkeypatch.setattr(replica, "_replica_usable", lambda state: True)
    token = replica._state.set(replica._ReadState(allowed=True))
    try:
        router = replica.ReplicaRouter()
        assert router.db_for_read(Order) == replica.REPLICA
        assert router.db_for_read(DataChange) == replica.REPLICA
        assert router.db_for_read(AuditEvent) == "default"  # the audit trail stays primary
    finally:
        replica._state.reset(token)


@pytest.mark.django_db(transaction=True)
def test_a_change_is_recorded_as_a_connections_first_statement() -> None:
    # A writer's first statement may be the change rows' COPY: the connection is opened for it.
    connection.close()
    data_changed([7, None])
    assert sorted(DataChange.objects.values_list("seller_id", flat=True)) == [-1, 0, 7]
