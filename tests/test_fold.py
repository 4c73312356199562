"""The order fold: any order of events gives one state; folding more equals folding all."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from defectdesk.core.timeutil import parse_aware
from defectdesk.ledger.fold import LedgerEvent, fold_more, fold_order
from tests.ledgers import ledgers


def as_ledger_events(raw: list[dict[str, Any]]) -> list[LedgerEvent]:
    return [
        LedgerEvent(e["id"], e["type"], parse_aware(e["occurred_at"]), e["seller"], e["data"])
        for e in raw
    ]


@settings(max_examples=200, deadline=None)
@given(ledger=ledgers(max_orders=1), data=st.data())
def test_fold_does_not_depend_on_event_order(
    ledger: list[dict[str, Any]], data: st.DataObject
) -> None:
    events = as_ledger_events(ledger)
    shuffled = data.draw(st.permutations(events))
    assert fold_order("US", "o", shuffled) == fold_order("US", "o", events)


@settings(max_examples=200, deadline=None)
@given(ledger=ledgers(max_orders=1), data=st.data())
def test_folding_more_equals_folding_everything(
    ledger: list[dict[str, Any]], data: st.DataObject
) -> None:
    events = sorted(as_ledger_events(ledger), key=lambda e: (e.occurred_at, e.event_id))
    cut = data.draw(st.integers(1, len(events)))
    head, tail = events[:cut], events[cut:]
    start = fold_order("US", "o", head)
    before = fold_order("US", "o", head)
    more = fold_more(start, data.draw(st.permutations(tail)))
    if start.is_placed:
        assert more == fold_order("US", "o", events)
        assert start == before  # the folded state was not changed
    else:
        assert more is None


@settings(max_examples=100, deadline=None)
@given(ledger=ledgers(max_orders=1))
def test_folding_an_earlier_event_is_refused(ledger: list[dict[str, Any]]) -> None:
    events = sorted(as_ledger_events(ledger), key=lambda e: (e.occurred_at, e.event_id))
    if len(events) < 2:
        return
    last = fold_order("US", "o", events[1:])
    if last.is_placed:
        assert fold_more(last, [events[0]]) is None
