"""Explanations add up: what was counted, plus what entered, minus what left, is what is counted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defectdesk.accounts.models import Seller
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.explain import explain_change, explain_day, outlook
from defectdesk.metrics.health import scope_for
from defectdesk.policy.profile import METRICS
from tests.test_metrics_reference import ZONES, ingest_shuffled, ledgers

days = st.integers(0, 110).map(lambda i: date(2026, 5, 31) + timedelta(days=i))


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
@given(ledger=ledgers(), pairs=st.lists(st.tuples(days, days), min_size=1, max_size=4))
def test_explanations_add_up(
    ledger: tuple[str, list[dict[str, Any]], int], pairs: list[tuple[date, date]]
) -> None:
    market, events, seed = ledger
    with transaction.atomic():
        Marketplace.objects.create(code=market, timezone=ZONES[market], currency="USD")
        ingest_shuffled(events, seed)
        scope = scope_for(Seller.objects.get(external_id="S-9"), market)
        for first, second in pairs:
            for metric in METRICS:
                change = explain_change(scope, metric, first, second)
                before, after = change["from"], change["to"]
                assert (
                    before["counted_against"] + len(change["entered"]) - len(change["left"])
                ) == after["counted_against"], (metric, change)
                if change["counts"] == "numerator":
                    assert (
                        before["numerator"] + len(change["entered"]) - len(change["left"])
                    ) == after["numerator"]
                listed = explain_day(scope, metric, second)
                assert len(listed["orders"]) == listed["counted_against"], (metric, listed)
                assert listed["counted_against"] == after["counted_against"]
        transaction.set_rollback(True)


def test_outlook_drops_defects_as_they_leave_the_window(cast: Any, make_event: Any) -> None:
    from defectdesk.ledger.ingest import Candidate, events_ingest

    events = [make_event(order=f"O-{n}", at=f"2026-09-0{n + 1}T18:00:00Z") for n in range(4)]
    events.append(
        make_event(
            "claim.filed",
            order="O-0",
            at="2026-09-05T18:00:00Z",
            claim_id="C1",
            reason="not_received",
        )
    )
    assert not events_ingest([Candidate(i, e) for i, e in enumerate(events)]).rejected
    scope = scope_for(Seller.objects.get(external_id="S-1"), "US")
    view = outlook(scope, "order_defect_rate", date(2026, 10, 20))
    assert view["rate"] == 0.25
    [defect] = view["defects"]
    assert defect["order"] == "O-0" and defect["leaves_window_on"] == "2026-11-14"
    by_day = {p["date"]: p for p in view["projection"]}
    assert by_day["2026-11-13"]["numerator"] == 1
    assert by_day["2026-11-14"]["numerator"] == 0 and by_day["2026-11-14"]["status"] == "good"
