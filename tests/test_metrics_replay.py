"""Replaying a ledger in any order or batching, or rebuilding it, gives the same health."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defectdesk.accounts.models import Seller
from defectdesk.defects.models import Defect
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Marketplace, Order
from defectdesk.ledger.rebuild import ledger_rebuild
from defectdesk.metrics.health import metric_history, scope_for, seller_health
from defectdesk.metrics.models import DailyCounter
from defectdesk.policy.profile import METRICS
from tests.test_metrics_reference import ZONES, ledgers

DAYS = [date(2026, 6, 1) + timedelta(days=i) for i in range(0, 120, 7)]


def problem_marks_agree() -> None:
    """Each order's `problem_since` is when the earliest of its active defects opened."""
    earliest: dict[int, Any] = {}
    for order_id, opened in Defect.objects.filter(status=Defect.Status.ACTIVE).values_list(
        "order_id", "opened_at"
    ):
        earliest[order_id] = min(opened, earliest.get(order_id, opened))
    for pk, since in Order.objects.values_list("pk", "problem_since"):
        assert since == earliest.get(pk), (pk, since, earliest.get(pk))


def snapshot(market: str) -> dict[str, Any]:
    """Everything the projections hold, in a comparable form."""
    problem_marks_agree()
    seller = Seller.objects.get(external_id="S-9")
    scope = scope_for(seller, market)
    counters: dict[tuple[Any, ...], int] = {}
    for row in DailyCounter.objects.values_list("metric", "part", "key_day", "change_day", "delta"):
        if row[4]:
            counters[row[:4]] = counters.get(row[:4], 0) + row[4]
    return {
        "counters": {k: v for k, v in counters.items() if v},
        "defects": sorted(
            Defect.objects.values_list(
                "order__order_ref",
                "kind",
                "source_key",
                "status",
                "opened_at",
                "removed_at",
                "removal_cause",
                "ledger_intervals",
            )
        ),
        "health": [seller_health(scope, d) for d in DAYS],
        "history": {
            m: metric_history(scope, m, date(2026, 5, 30), date(2026, 9, 30)) for m in METRICS
        },
    }


def ingest_in(events: list[dict[str, Any]], rng: random.Random | None) -> None:
    items = list(events)
    if rng is not None:
        rng.shuffle(items)
    i = 0
    while i < len(items):
        size = len(items) if rng is None else rng.randint(1, 10)
        result = events_ingest([Candidate(j, e) for j, e in enumerate(items[i : i + size])])
        assert not result.rejected
        i += size


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(ledger=ledgers(), seed=st.integers(0, 2**32))
def test_any_order_and_batching_gives_the_same_health(
    ledger: tuple[str, list[dict[str, Any]], int], seed: int
) -> None:
    market, events, _ = ledger
    snaps = []
    for rng in (None, random.Random(seed)):
        with transaction.atomic():
            Marketplace.objects.create(code=market, timezone=ZONES[market], currency="USD")
            ingest_in(events, rng)
            snaps.append(snapshot(market))
            ledger_rebuild()
            snaps.append(snapshot(market))
            transaction.set_rollback(True)
    assert snaps[0] == snaps[1] == snaps[2] == snaps[3]
