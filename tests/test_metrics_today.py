"""Today is not over (DESIGN §4): as of today the cut-off is now, for past days the day's end."""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import caches
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defectdesk.accounts.models import Seller
from defectdesk.appeals.actions import appeal_create
from defectdesk.console.health import sellers_health
from defectdesk.core.errors import Conflict
from defectdesk.defects.models import Defect
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.core import DEN, METRIC_CODE, NUM
from defectdesk.metrics.explain import explain_day, outlook
from defectdesk.metrics.health import (
    Scope,
    all_sellers_sums,
    metric_history,
    scope_for,
    seller_health,
)
from defectdesk.policy.profile import METRICS
from defectdesk.policy.selectors import policy_for
from tests.metrics_reference import reference_health
from tests.test_metrics_reference import ZONES, engine_parts, ingest_shuffled, ledgers

ZONE = {"US": "America/Los_Angeles", "CN": "Asia/Shanghai"}
DAY = date(2026, 10, 20)  # "today" in each marketplace
REF = "T-1"


def local(market: str, day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=ZoneInfo(ZONE[market]))


def ingest(*events: dict[str, Any]) -> None:
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert not result.rejected, result.rejected


@pytest.fixture
def markets(cast: dict[str, Any]) -> dict[str, Any]:
    """US (Los Angeles, from the cast) and CN (Shanghai): alice's S-1 sells in both."""
    Marketplace.objects.create(code="CN", timezone=ZONE["CN"], currency="USD")
    return cast


def _place(make_event: Any, market: str, **data: Any) -> dict[str, Any]:
    placed = local(market, DAY - timedelta(days=2), 9, 0)
    fields = {"ship_by": local(market, DAY + timedelta(days=3), 12, 0).isoformat()}
    fields["deliver_by"] = local(market, DAY + timedelta(days=8), 12, 0).isoformat()
    fields.update(data)
    return make_event(order=REF, marketplace=market, at=placed.isoformat(), **fields)


def _tonight(market: str) -> str:
    return local(market, DAY, 23, 59).isoformat()


def _scenario(kind: str, market: str, make_event: Any) -> tuple[str, list[dict[str, Any]]]:
    """The metric an event later today moves, and the ledger: nothing past is late yet."""

    def ev(type_: str, at: datetime, **data: Any) -> dict[str, Any]:
        return make_event(type_, order=REF, marketplace=market, at=at.isoformat(), **data)

    if kind == "ship_by":
        return "late_shipment_rate", [_place(make_event, market, ship_by=_tonight(market))]
    if kind == "deliver_by":
        # Delivery is judged ten days after the order date: the order is ten days old today.
        order_day = DAY - timedelta(days=10)
        return "on_time_delivery_rate", [
            make_event(
                order=REF,
                marketplace=market,
                at=local(market, order_day, 8, 0).isoformat(),
                ship_by=local(market, order_day, 20, 0).isoformat(),
                deliver_by=_tonight(market),
            ),
            ev("order.shipped", local(market, order_day, 10, 0), tracking_number="1Z"),
            ev("shipment.scanned", local(market, order_day, 11, 0), status="accepted"),
        ]
    if kind == "message":
        return "contact_response_rate", [
            _place(make_event, market),
            ev("message.received", local(market, DAY - timedelta(days=1), 23, 59), message_id="M1"),
        ]
    assert kind == "scan"
    # Shipped 48 h before 23:59 tonight, never scanned; the order date is ten days back.
    order_day = DAY - timedelta(days=10)
    return "valid_tracking_rate", [
        make_event(
            order=REF,
            marketplace=market,
            at=local(market, order_day, 8, 0).isoformat(),
            ship_by=local(market, DAY - timedelta(days=2), 23, 59, 30).isoformat(),
            deliver_by=local(market, DAY + timedelta(days=5), 12, 0).isoformat(),
        ),
        ev("order.shipped", local(market, DAY - timedelta(days=2), 23, 59), tracking_number="1Z"),
    ]


def _counted(market: str, metric: str, alice: Any) -> dict[str, Any]:
    """What every reader says about the metric now: health, API, CLI, explanation, history."""
    seller = Seller.objects.get(external_id="S-1")
    scope = scope_for(seller, market)
    today = scope.today
    health = seller_health(scope, today)["metrics"][metric]
    client = Client()
    client.force_login(alice)
    api = client.get(f"/api/v1/sellers/S-1/health?marketplace={market}").json()
    out = io.StringIO()
    call_command("health", "S-1", "--marketplace", market, "--json", stdout=out)
    cli = json.loads(out.getvalue())
    assert api == cli == seller_health(scope, today)
    explained = explain_day(scope, metric, today)
    point = metric_history(scope, metric, today - timedelta(days=1), today)[-1]
    assert point["date"] == today.isoformat()
    assert (point["numerator"], point["denominator"]) == (
        health["numerator"],
        health["denominator"],
    )
    assert explained["counted_against"] == len(explained["orders"])
    assert (explained["numerator"], explained["denominator"]) == (
        health["numerator"],
        health["denominator"],
    )
    outlook(scope, metric, today)  # reads today's numbers the same way; must not fail
    return {
        "numerator": health["numerator"],
        "denominator": health["denominator"],
        "listed": [o["order"] for o in explained["orders"]],
        "today": today,
    }


@pytest.mark.parametrize("market", ["US", "CN"])
@pytest.mark.parametrize("kind", ["ship_by", "deliver_by", "message", "scan"])
def test_a_change_point_later_today_is_not_counted_until_it_passes(
    markets: dict[str, Any], make_event: Any, market: str, kind: str
) -> None:
    metric, events = _scenario(kind, market, make_event)
    alice = markets["alice"]
    with time_machine.travel(local(market, DAY, 8, 0), tick=False):
        ingest(*events)
    with time_machine.travel(local(market, DAY, 12, 0), tick=False):
        midday = _counted(market, metric, alice)
    with time_machine.travel(local(market, DAY + timedelta(days=1), 12, 0), tick=False):
        tomorrow = _counted(market, metric, alice)
        seller = Seller.objects.get(external_id="S-1")
        past = seller_health(scope_for(seller, market), DAY)["metrics"][metric]
    assert midday["today"] == DAY
    assert midday["listed"] == []
    if kind == "ship_by":
        # Not late and not yet due: in neither the numerator nor the denominator.
        assert (midday["numerator"], midday["denominator"]) == (0, 0)
        assert (tomorrow["numerator"], tomorrow["denominator"]) == (1, 1)
    elif kind == "deliver_by":
        # Tracked, so in the valid tracking rate; not in on-time delivery until deliver_by.
        assert (midday["numerator"], midday["denominator"]) == (0, 0)
        assert (tomorrow["numerator"], tomorrow["denominator"]) == (0, 1)
    elif kind == "message":
        # A message not yet 24 h old is neither answered in time nor missed.
        assert (midday["numerator"], midday["denominator"]) == (0, 0)
        assert (tomorrow["numerator"], tomorrow["denominator"]) == (0, 1)
    else:
        # Still within its 48 h: valid tracking so far.
        assert (midday["numerator"], midday["denominator"]) == (1, 1)
        assert (tomorrow["numerator"], tomorrow["denominator"]) == (0, 1)
    assert tomorrow["listed"] == [REF]
    # As of that day, once it is over, the day's end is the cut-off: the change point counts.
    assert (past["numerator"], past["denominator"]) == (
        tomorrow["numerator"],
        tomorrow["denominator"],
    )


def _appeal(alice: Any) -> Any:
    defect = Defect.objects.get(order__order_ref=REF, kind="late_shipment")
    return appeal_create(
        actor=alice,
        defect=defect,
        reason="other",
        explanation="The carrier collected it on time, see the scan record.",
    )


def _rates(client: Client, market: str) -> list[str]:
    """The rates the Account health page shows."""
    page = client.get(f"/?marketplace={market}").content.decode()
    return re.findall(r'aria-label="([^"]*): see the orders behind it"', page)


def _lists(client: Client) -> tuple[list[str], list[str]]:
    """Problem orders (API) and the at-risk reasons of the order."""
    problems = client.get("/api/v1/orders?seller=S-1&problem=true").json()["items"]
    risky = client.get("/api/v1/sellers/S-1/at-risk").json()["items"]
    reasons = [x["reason"] for r in risky if r["order"] == REF for x in r["risks"]]
    return [o["order"] for o in problems], reasons


@pytest.mark.parametrize("market", ["US", "CN"])
def test_the_order_page_and_health_agree_around_the_deadline(
    markets: dict[str, Any], make_event: Any, market: str
) -> None:
    """Before and at 23:59 local: "Not yet counted" and not in the rate; after it, both count."""
    _, events = _scenario("ship_by", market, make_event)
    alice = markets["alice"]
    with time_machine.travel(local(market, DAY, 8, 0), tick=False):
        ingest(*events)
    client = Client()
    client.force_login(alice)
    page = reverse("order", args=[market, REF])
    with time_machine.travel(local(market, DAY, 23, 58), tick=False):
        health_page = _rates(client, market)
        # Both deadlines ahead: late shipment and late delivery are not yet counted.
        assert client.get(page).content.decode().count("Not yet counted") == 2
        assert _lists(client) == ([], ["ship_by_soon"])
        before = _counted(market, "late_shipment_rate", alice)
    with time_machine.travel(local(market, DAY, 23, 59, 0), tick=False):
        # Shipping at ship_by itself is on time: not late at that very instant.
        assert client.get(page).content.decode().count("Not yet counted") == 2
        assert _lists(client) == ([], ["ship_by_soon"])
        with pytest.raises(Conflict, match="opens only on"):
            _appeal(alice)
        at_deadline = _counted(market, "late_shipment_rate", alice)
    with time_machine.travel(local(market, DAY, 23, 59, 1), tick=False):
        assert client.get(page).content.decode().count("Not yet counted") == 1
        assert _lists(client) == ([REF], [])
        assert _appeal(alice).status == "draft"
        just_after = _counted(market, "late_shipment_rate", alice)
        # The health page is not kept from before the deadline passed.
        assert _rates(client, market) != health_page
    with time_machine.travel(local(market, DAY + timedelta(days=1), 0, 1), tick=False):
        # Only late delivery is still ahead.
        assert client.get(page).content.decode().count("Not yet counted") == 1
        after = _counted(market, "late_shipment_rate", alice)
    assert (before["numerator"], before["denominator"], before["listed"]) == (0, 0, [])
    assert (at_deadline["numerator"], at_deadline["denominator"]) == (0, 0)
    assert (just_after["numerator"], just_after["denominator"]) == (1, 1)
    assert (after["numerator"], after["denominator"], after["listed"]) == (1, 1, [REF])


def test_past_days_never_change_as_today_goes_on(markets: dict[str, Any], make_event: Any) -> None:
    _, events = _scenario("ship_by", "US", make_event)
    with time_machine.travel(local("US", DAY, 8, 0), tick=False):
        ingest(*events)
    seller = Seller.objects.get(external_id="S-1")
    seen = []
    for hh in (0, 12, 23):
        with time_machine.travel(local("US", DAY + timedelta(days=1), hh, 30), tick=False):
            scope = scope_for(seller, "US")
            seen.append(
                [seller_health(scope, DAY - timedelta(days=n))["metrics"] for n in range(-1, 3)]
            )
    assert seen[0] == seen[1] == seen[2]


def test_the_other_marketplace_keeps_its_own_today(
    markets: dict[str, Any], make_event: Any
) -> None:
    """At 08:30 in Shanghai on the 21st it is still the 20th in Los Angeles, and vice versa."""
    _, us = _scenario("ship_by", "US", make_event)
    with time_machine.travel(local("US", DAY, 8, 0), tick=False):
        ingest(*us)
    seller = Seller.objects.get(external_id="S-1")
    with time_machine.travel(local("US", DAY, 17, 0), tick=False):  # 08:00 on the 21st in CN
        us_scope = scope_for(seller, "US")
        assert us_scope.today == DAY
        assert seller_health(us_scope, DAY)["metrics"]["late_shipment_rate"]["denominator"] == 0
        # S-1 does not sell in CN: a scope there is refused, but CN's own day has turned.
        cn = Marketplace.objects.get(code="CN")
        cn_scope = Scope(seller, cn, policy_for(cn.pk))
        assert cn_scope.today == DAY + timedelta(days=1)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(ledger=ledgers(), minute=st.integers(0, 60 * 24 * 45))
def test_today_agrees_with_the_reference_at_any_moment(
    ledger: tuple[str, list[dict[str, Any]], int], minute: int
) -> None:
    """Frozen at any moment: today is the reference at that moment, yesterday at its end."""
    market, events, seed = ledger
    tz = ZoneInfo(ZONES[market])
    now = datetime(2026, 6, 1, tzinfo=tz) + timedelta(minutes=minute)
    if minute % 3 == 0:
        now = now.replace(minute=0, hour=0)  # exactly local midnight
    # A rolled-back example can hand out the same data version again (see conftest).
    caches["local"].clear()
    with transaction.atomic():
        mk = Marketplace.objects.create(code=market, timezone=ZONES[market], currency="USD")
        ingest_shuffled(events, seed)
        seller = Seller.objects.get(external_id="S-9")
        with time_machine.travel(now, tick=False):
            today = now.astimezone(tz).date()
            got = engine_parts(seller.id, mk.id, today)
            assert got == reference_health(events, tz, today, now), (today, now)
            yesterday = today - timedelta(days=1)
            assert engine_parts(seller.id, mk.id, yesterday) == reference_health(
                events, tz, yesterday
            )
            scope = scope_for(seller, market)
            for name in METRICS:
                point = metric_history(scope, name, yesterday, today)[-1]
                assert (point["numerator"], point["denominator"]) == (
                    got[name]["numerator"],
                    got[name]["denominator"],
                ), name
                explained = explain_day(scope, name, today)
                assert explained["counted_against"] == len(explained["orders"]), name
        transaction.set_rollback(True)


@pytest.mark.parametrize("market", ["US", "CN"])
def test_every_seller_at_once_and_the_console_follow_the_clock(
    markets: dict[str, Any], make_event: Any, market: str
) -> None:
    """The every-seller sums (account status) and the console's panel, cached or not."""
    _, events = _scenario("ship_by", market, make_event)
    with time_machine.travel(local(market, DAY, 8, 0), tick=False):
        ingest(*events)
    seller = Seller.objects.get(external_id="S-1")
    mk = Marketplace.objects.get(code=market)
    policy = scope_for(seller, market).policy
    lsr = METRIC_CODE["late_shipment_rate"]
    seen = {}
    for hh, mm, ss in ((23, 58, 0), (23, 59, 0), (23, 59, 1)):
        with time_machine.travel(local(market, DAY, hh, mm, ss), tick=False):
            sums = all_sellers_sums(DAY, mk, policy)[seller.pk]
            panel = sellers_health([(seller.pk, mk.pk)])[(seller.pk, mk.pk)]
            seen[(hh, mm, ss)] = (sums.get(lsr, NUM), sums.get(lsr, DEN), panel.failing)
    assert seen == {
        (23, 58, 0): (0, 0, ()),
        (23, 59, 0): (0, 0, ()),
        (23, 59, 1): (1, 1, ("late_shipment_rate",)),
    }
