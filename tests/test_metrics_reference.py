"""The metrics engine agrees with the reference of DESIGN §3-§4 on generated ledgers."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defectdesk.accounts.models import Seller
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.core import (
    DEN,
    DEN_MARKETPLACE,
    DEN_MERCHANT,
    KIND_PART,
    METRIC_CODE,
    NUM,
    NUM_MARKETPLACE,
    NUM_MERCHANT,
)
from defectdesk.metrics.health import health_sums, metric_history, scope_for
from defectdesk.policy.profile import DEFAULT_POLICY, METRICS
from tests.metrics_reference import ODR_KINDS, reference_health

BASE = datetime(2026, 6, 1, tzinfo=ZoneInfo("UTC"))
ZONES = {"PHX": "America/Phoenix", "SGP": "Asia/Singapore"}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _minutes(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Minutes, often whole days (so that times land exactly on local midnights)."""
    days = st.integers(-(-lo // 1440), hi // 1440).map(lambda d: d * 1440)
    return (
        st.one_of(st.integers(lo, hi), days)
        if hi // 1440 >= -(-lo // 1440)
        else st.integers(lo, hi)
    )


@st.composite
def order_events(draw: Any, n: int, market: str) -> list[dict[str, Any]]:
    """The events of one order: every kind of trouble, at awkward times, some out of order."""
    ref = f"ORD-{n}"
    midnight = datetime(2026, 6, 1, tzinfo=ZoneInfo(ZONES[market]))
    placed = midnight + timedelta(minutes=draw(_minutes(0, 60 * 24 * 40)))
    ship_by = placed + timedelta(minutes=draw(_minutes(0, 60 * 72)))
    deliver_by = ship_by + timedelta(minutes=draw(_minutes(60 * 24, 60 * 24 * 5)))
    events: list[tuple[str, datetime, dict[str, Any]]] = []
    fulfillment = draw(st.sampled_from(["merchant", "merchant", "marketplace"]))
    # Some deadlines land exactly on midnight in the marketplace, some exactly on the minute.
    events.append(
        (
            "order.placed",
            placed,
            {
                "buyer": "B",
                "fulfillment": fulfillment,
                "total": {"amount": "10.00", "currency": "USD"},
                "ship_by": _iso(ship_by),
                "deliver_by": _iso(deliver_by),
            },
        )
    )

    def at_offset(base: datetime, lo: int, hi: int) -> datetime:
        return base + timedelta(minutes=draw(_minutes(lo, hi)))

    if draw(st.booleans()):
        shipped = draw(st.sampled_from([ship_by, at_offset(placed, 0, 60 * 96)]))
        tracking = draw(st.sampled_from(["1Z", "", None]))
        events.append(("order.shipped", shipped, {"tracking_number": tracking}))
        for _ in range(draw(st.integers(0, 2))):
            scan = draw(
                st.sampled_from(
                    [shipped + timedelta(hours=48), at_offset(shipped, -60, 60 * 24 * 5)]
                )
            )
            events.append(("shipment.scanned", scan, {"status": "in_transit"}))
        if draw(st.booleans()):
            delivered = draw(st.sampled_from([deliver_by, at_offset(shipped, 0, 60 * 24 * 8)]))
            events.append(("order.delivered", delivered, {}))
    if draw(st.integers(0, 3)) == 0:
        events.append(
            (
                "order.cancelled",
                at_offset(placed, 0, 60 * 24 * 5),
                {"requested_by": draw(st.sampled_from(["buyer", "seller", "marketplace"]))},
            )
        )
    if draw(st.integers(0, 2)) == 0:
        events.append(("refund.issued", at_offset(placed, 0, 60 * 24 * 30), {"amount": "5.00"}))
    for fid in range(draw(st.integers(0, 2))):
        for _ in range(draw(st.integers(1, 2))):
            events.append(
                (
                    "feedback.posted",
                    at_offset(placed, 0, 60 * 24 * 40),
                    {"feedback_id": f"F{fid}", "rating": draw(st.integers(1, 5))},
                )
            )
        if draw(st.booleans()):
            events.append(
                ("feedback.removed", at_offset(placed, 0, 60 * 24 * 60), {"feedback_id": f"F{fid}"})
            )
    for cid in range(draw(st.integers(0, 2))):
        events.append(
            (
                "claim.filed",
                at_offset(placed, 0, 60 * 24 * 40),
                {"claim_id": f"C{cid}", "reason": "not_received"},
            )
        )
        for _ in range(draw(st.integers(0, 2))):
            events.append(
                (
                    "claim.decided",
                    at_offset(placed, 0, 60 * 24 * 60),
                    {
                        "claim_id": f"C{cid}",
                        "outcome": draw(
                            st.sampled_from(
                                [
                                    "denied",
                                    "withdrawn",
                                    "refunded_by_seller",
                                    "granted_seller_funded",
                                    "granted_marketplace_funded",
                                ]
                            )
                        ),
                    },
                )
            )
    if draw(st.integers(0, 2)) == 0:
        events.append(
            (
                "chargeback.filed",
                at_offset(placed, 0, 60 * 24 * 40),
                {
                    "chargeback_id": "K0",
                    "reason": draw(
                        st.sampled_from(
                            ["not_received", "duplicate", "fraud", "unrecognized", "other"]
                        )
                    ),
                },
            )
        )
        if draw(st.booleans()):
            events.append(
                (
                    "chargeback.decided",
                    at_offset(placed, 0, 60 * 24 * 60),
                    {
                        "chargeback_id": "K0",
                        "outcome": draw(st.sampled_from(["won", "lost", "accepted"])),
                    },
                )
            )
    for mid in range(draw(st.integers(0, 2))):
        received = at_offset(placed, 0, 60 * 24 * 20)
        events.append(("message.received", received, {"message_id": f"M{mid}"}))
        if draw(st.booleans()):
            events.append(
                (
                    "message.sent",
                    draw(
                        st.sampled_from(
                            [received + timedelta(hours=24), at_offset(received, -30, 60 * 50)]
                        )
                    ),
                    {"message_id": f"R{mid}"},
                )
            )
        if draw(st.integers(0, 3)) == 0:
            events.append(
                (
                    "message.no_response_needed",
                    at_offset(received, 0, 60 * 40),
                    {"message_id": f"M{mid}"},
                )
            )
    return [
        {
            "id": f"{market}-{ref}-{i}",
            "type": t,
            "occurred_at": _iso(at),
            "marketplace": market,
            "seller": "S-9",
            "order": ref,
            "data": data,
        }
        for i, (t, at, data) in enumerate(events)
    ]


@st.composite
def ledgers(draw: Any) -> tuple[str, list[dict[str, Any]], int]:
    market = draw(st.sampled_from(sorted(ZONES)))
    count = draw(st.integers(1, 6))
    events = [e for n in range(count) for e in draw(order_events(n, market))]
    return market, events, draw(st.integers(0, 2**32))


def engine_parts(seller_id: int, market_id: int, day: date) -> dict[str, Any]:
    sums = health_sums(seller_id, market_id, day, DEFAULT_POLICY)
    out: dict[str, Any] = {}
    for name in METRICS:
        code = METRIC_CODE[name]
        out[name] = {"numerator": sums.get(code, NUM), "denominator": sums.get(code, DEN)}
    odr = out["order_defect_rate"]
    code = METRIC_CODE["order_defect_rate"]
    odr["components"] = {k: sums.get(code, KIND_PART[k]) for k in ODR_KINDS}
    odr["by_fulfillment"] = {
        "merchant": {
            "numerator": sums.get(code, NUM_MERCHANT),
            "denominator": sums.get(code, DEN_MERCHANT),
        },
        "marketplace": {
            "numerator": sums.get(code, NUM_MARKETPLACE),
            "denominator": sums.get(code, DEN_MARKETPLACE),
        },
    }
    return out


def ingest_shuffled(events: list[dict[str, Any]], seed: int) -> None:
    rng = random.Random(seed)
    shuffled = list(events)
    rng.shuffle(shuffled)
    i = 0
    while i < len(shuffled):
        size = rng.randint(1, 8)
        result = events_ingest([Candidate(j, e) for j, e in enumerate(shuffled[i : i + size])])
        assert not result.rejected, result.rejected
        i += size


def check_days() -> list[date]:
    """Every day from before the first order to after the last window has closed."""
    return [date(2026, 5, 31) + timedelta(days=i) for i in range(130)]


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(ledger=ledgers())
def test_engine_agrees_with_reference(ledger: tuple[str, list[dict[str, Any]], int]) -> None:
    market, events, seed = ledger
    tz = ZoneInfo(ZONES[market])
    with transaction.atomic():
        mk = Marketplace.objects.create(code=market, timezone=ZONES[market], currency="USD")
        ingest_shuffled(events, seed)
        seller = Seller.objects.get(external_id="S-9")
        for day in check_days():
            expected = reference_health(events, tz, day)
            got = engine_parts(seller.id, mk.id, day)
            assert got == expected, (day, got, expected)
        scope = scope_for(seller, market)
        for name in METRICS:
            first, last = date(2026, 5, 31), date(2026, 9, 30)
            for item in metric_history(scope, name, first, last):
                ref = reference_health(events, tz, date.fromisoformat(item["date"]))[name]
                assert (item["numerator"], item["denominator"]) == (
                    ref["numerator"],
                    ref["denominator"],
                ), (name, item)
        transaction.set_rollback(True)
