"""Any shuffling of a ledger, and any split into batches, gives the same projections."""

from __future__ import annotations

import itertools
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Order
from defectdesk.ledger.rebuild import ledger_rebuild
from tests.ledgers import ledgers

PROJECTED = [f.attname for f in Order._meta.concrete_fields if f.attname not in {"id", "seller_id"}]


def snapshot() -> list[tuple[Any, ...]]:
    rows = Order.objects.order_by("order_ref").values_list(
        "order_ref", "seller__external_id", *PROJECTED
    )
    return [tuple(r) for r in rows]


def apply_in_batches(events: list[dict[str, Any]], cuts: list[int]) -> None:
    bounds = [0, *sorted(set(cuts)), len(events)]
    for start, end in itertools.pairwise(bounds):
        if start < end:
            result = events_ingest([Candidate(i, e) for i, e in enumerate(events[start:end])])
            assert not result.rejected, result.rejected


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledger=ledgers(), data=st.data())
def test_shuffled_and_batched_replay_gives_the_same_orders(
    marketplace: Any, ledger: list[dict[str, Any]], data: st.DataObject
) -> None:
    with transaction.atomic():
        apply_in_batches(ledger, [])
        expected = snapshot()
        transaction.set_rollback(True)
    shuffled = data.draw(st.permutations(ledger))
    cuts = data.draw(st.lists(st.integers(0, len(ledger)), max_size=6))
    with transaction.atomic():
        apply_in_batches(list(shuffled), cuts)
        assert snapshot() == expected
        ledger_rebuild()
        assert snapshot() == expected
        transaction.set_rollback(True)
