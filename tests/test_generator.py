"""The synthetic ledger: deterministic, well-formed, realistic, and true to the demo profiles."""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.core.management import CommandError, call_command

from defectdesk.ledger.generator import (
    SellerProfile,
    demo_profiles,
    generate_events,
    generate_marketplaces_events,
    long_tail_weights,
    seller_profiles,
    write_ndjson,
)
from defectdesk.ledger.schemas import MarketplaceInfo, event_validate

END = date(2026, 10, 1)
LA = ZoneInfo("America/Los_Angeles")
KEYS = ["id", "type", "occurred_at", "marketplace", "seller", "order", "data"]
UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LOCAL_DEADLINE = re.compile(r"^\d{4}-\d{2}-\d{2}T23:59:59[+-]\d{2}:\d{2}$")
AMOUNT = re.compile(r"^\d+\.\d{2}$")
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")

Event = dict[str, Any]

# type -> {field: allowed values, or a type, or "amount" / "time"}; all listed fields required.
SCHEMA: dict[str, dict[str, Any]] = {
    "order.placed": {
        "buyer": str,
        "fulfillment": {"merchant", "marketplace"},
        "total": dict,
        "ship_by": "time",
        "deliver_by": "time",
        "items": list,
        "payment_ref": str,
    },
    "order.shipped": {"carrier": str, "service": str},
    "shipment.scanned": {
        "status": {"accepted", "in_transit", "out_for_delivery", "exception"},
        "location": str,
    },
    "order.delivered": {"signature": bool},
    "order.cancelled": {"requested_by": {"buyer", "seller", "marketplace"}, "reason": str},
    "return.requested": {"reason": str},
    "return.received": {"reason": str},
    "refund.issued": {"amount": "amount", "reason": str, "initiated_by": {"seller", "marketplace"}},
    "feedback.posted": {"feedback_id": str, "rating": {1, 2, 3, 4, 5}, "comment": str},
    "feedback.removed": {"feedback_id": str, "reason": str},
    "claim.filed": {
        "claim_id": str,
        "reason": {"not_received", "not_as_described", "return_not_refunded", "other"},
        "amount": "amount",
    },
    "claim.decided": {
        "claim_id": str,
        "outcome": {
            "denied",
            "withdrawn",
            "refunded_by_seller",
            "granted_seller_funded",
            "granted_marketplace_funded",
        },
    },
    "chargeback.filed": {
        "chargeback_id": str,
        "reason": {
            "not_received",
            "not_as_described",
            "duplicate",
            "fraud",
            "unrecognized",
            "other",
        },
        "amount": "amount",
    },
    "chargeback.decided": {"chargeback_id": str, "outcome": {"won", "lost", "accepted"}},
    "message.received": {"message_id": str, "body": str},
    "message.sent": {"message_id": str, "body": str},
    "message.no_response_needed": {"message_id": str},
}
OPTIONAL = {"order.shipped": {"tracking_number"}, "order.delivered": {"proof_url"}}


def problems_of(event: Event) -> list[str]:
    """What is wrong with one event against the wire format; empty when it is valid."""
    found = []
    if list(event) != KEYS:
        found.append(f"keys {list(event)}")
    if not UTC_TIME.match(event["occurred_at"]):
        found.append(f"occurred_at {event['occurred_at']!r}")
    if not ORDER_ID.match(event["order"]) or not event["seller"].startswith("S-"):
        found.append("order or seller")
    schema = SCHEMA.get(event["type"])
    if schema is None:
        return [*found, f"type {event['type']}"]
    data = event["data"]
    extra = set(data) - set(schema) - OPTIONAL.get(event["type"], set())
    if extra:
        found.append(f"extra fields {extra}")
    for field, rule in schema.items():
        value = data.get(field)
        if value is None:
            found.append(f"missing {field}")
        elif rule == "amount":
            ok = isinstance(value, str) and AMOUNT.match(value) and Decimal(value) > 0
            found += [] if ok else [f"{field} {value!r}"]
        elif rule == "time":
            found += [] if LOCAL_DEADLINE.match(value) else [f"{field} {value!r}"]
        elif isinstance(rule, set):
            found += [] if value in rule else [f"{field} {value!r}"]
        elif not isinstance(value, rule) or (isinstance(value, str) and not value):
            found.append(f"{field} {value!r}")
    if event["type"] == "order.placed":
        total = data["total"]
        items = sum(Decimal(i["price"]) * i["quantity"] for i in data["items"])
        if total["currency"] != "USD" or Decimal(total["amount"]) != items or not items:
            found.append(f"total {total} for items {data['items']}")
    return found


def when(event: Event) -> datetime:
    return datetime.fromisoformat(event["occurred_at"])


def by_order(events: Iterable[Event]) -> dict[str, list[Event]]:
    orders: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        orders[event["order"]].append(event)
    return orders


@cache
def ledger(orders: int = 3000, sellers: int = 10, seed: int = 7) -> tuple[Event, ...]:
    return tuple(generate_events(orders=orders, sellers=sellers, days=90, seed=seed, end=END))


@cache
def demo_ledger() -> tuple[Event, ...]:
    return tuple(generate_events(orders=6000, profiles=demo_profiles(), days=120, seed=11, end=END))


def ndjson(**arguments: Any) -> bytes:
    stream = io.BytesIO()
    write_ndjson(generate_events(**arguments), stream)
    return stream.getvalue()


def test_same_arguments_give_identical_bytes_and_another_seed_another_ledger() -> None:
    arguments: dict[str, Any] = {"orders": 400, "sellers": 5, "days": 30, "end": END}
    first = ndjson(seed=1, **arguments)
    assert first == ndjson(seed=1, **arguments)
    assert first != ndjson(seed=2, **arguments)
    lines = first.splitlines()
    assert first.endswith(b"\n") and len(lines) > 2000
    assert list(orjson.loads(lines[0])) == KEYS


def test_events_are_sorted_by_time_then_id_and_ids_are_unique() -> None:
    events = ledger()
    keys = [(when(e), e["id"]) for e in events]
    assert keys == sorted(keys)
    assert len({e["id"] for e in events}) == len(events)
    assert events[0]["id"] == "evt-7-000000001"


def test_every_event_matches_the_wire_format() -> None:
    events = ledger()
    bad = [(e["id"], p) for e in events if (p := problems_of(e))]
    assert bad == []
    markets = {"US": MarketplaceInfo(code="US", currency="USD")}
    rejected = [e["id"] for e in events[::7] if isinstance(event_validate(e, markets), list)]
    assert rejected == []


def test_no_event_happens_before_its_order_is_placed_or_after_the_last_day() -> None:
    end_of_day = datetime(2026, 10, 2, tzinfo=LA)
    first_day = datetime(2026, 7, 4, tzinfo=LA)  # 90 days ending 2026-10-01
    orders = by_order(ledger())
    assert len(orders) == 3000
    for events in orders.values():
        placed = events[0]
        assert placed["type"] == "order.placed"
        assert first_day <= when(placed)
        assert all(when(e) > when(placed) for e in events[1:])
        assert all(e["type"] != "order.placed" for e in events[1:])
        assert len({e["seller"] for e in events}) == 1
        assert when(events[-1]) < end_of_day


def test_each_order_tells_its_story_in_order() -> None:
    # (earlier, later, whether the later needs the earlier): an untracked parcel may be
    # returned without a delivery on record.
    steps = [
        ("order.shipped", "shipment.scanned", True),
        ("order.shipped", "order.delivered", True),
        ("order.shipped", "return.requested", True),
        ("order.delivered", "return.requested", False),
        ("return.requested", "return.received", True),
        ("claim.filed", "claim.decided", True),
        ("chargeback.filed", "chargeback.decided", True),
        ("feedback.posted", "feedback.removed", True),
        ("message.received", "message.no_response_needed", True),
    ]
    for events in [*by_order(ledger()).values(), *by_order(demo_ledger()).values()]:
        first: dict[str, datetime] = {}
        for event in events:
            first.setdefault(event["type"], when(event))
        for earlier, later, needed in steps:
            if later in first and (needed or earlier in first):
                assert first.get(earlier, first[later]) < first[later], (earlier, later, events)
        scans = [e["data"]["status"] for e in events if e["type"] == "shipment.scanned"]
        if "order.delivered" in first and "out_for_delivery" in scans:
            assert scans[-1] == "out_for_delivery"


def test_recent_orders_are_partly_done() -> None:
    last_day = [e for e in by_order(ledger()).values() if when(e[0]).astimezone(LA).date() == END]
    assert len(last_day) > 20
    assert not any(e["type"] == "order.delivered" for events in last_day for e in events)
    assert any(len(events) == 1 for events in last_day)


def test_every_event_type_appears_in_a_3000_order_ledger() -> None:
    assert set(Counter(e["type"] for e in ledger())) == set(SCHEMA)


def test_claims_and_chargebacks_show_every_reason_and_outcome_and_some_are_undecided() -> None:
    troubled = SellerProfile(
        seller="S-9", claim=0.06, chargeback=0.06, refund=0.1, unrefunded_return=0.3
    )
    events = list(generate_events(orders=4000, profiles=[troubled], days=90, seed=3, end=END))
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        data = event["data"]
        kinds[event["type"]][data.get("reason") or data.get("outcome") or ""] += 1
    assert set(kinds["claim.filed"]) == set(SCHEMA["claim.filed"]["reason"])
    assert set(kinds["claim.decided"]) == set(SCHEMA["claim.decided"]["outcome"])
    assert set(kinds["chargeback.filed"]) == set(SCHEMA["chargeback.filed"]["reason"])
    assert set(kinds["chargeback.decided"]) == set(SCHEMA["chargeback.decided"]["outcome"])
    assert kinds["claim.filed"].total() > kinds["claim.decided"].total()
    assert kinds["chargeback.filed"].total() > kinds["chargeback.decided"].total()
    assert {e["seller"] for e in events} == {"S-9"}


def test_the_ledger_holds_each_kind_of_trouble() -> None:
    orders = by_order(ledger(orders=6000))
    seen: Counter[str] = Counter()
    for events in orders.values():
        placed = events[0]["data"]
        ship_by = datetime.fromisoformat(placed["ship_by"])
        deliver_by = datetime.fromisoformat(placed["deliver_by"])
        types = [e["type"] for e in events]
        shipped = next((e for e in events if e["type"] == "order.shipped"), None)
        delivered = next((e for e in events if e["type"] == "order.delivered"), None)
        cancels = [e["data"]["requested_by"] for e in events if e["type"] == "order.cancelled"]
        seen[placed["fulfillment"]] += 1
        for by in cancels:
            seen[f"cancelled by {by}" + (" after shipping" if shipped else "")] += 1
        if shipped is None and not cancels and ship_by < datetime(2026, 10, 1, tzinfo=LA):
            seen["never shipped past ship_by"] += 1
        if shipped is not None:
            seen[f"{placed['fulfillment']} shipped"] += 1
            seen["shipped late"] += when(shipped) > ship_by
            seen["no tracking number"] += "tracking_number" not in shipped["data"]
            if "tracking_number" in shipped["data"] and "shipment.scanned" not in types:
                seen["no carrier scan"] += 1
        if delivered is not None:
            seen[f"{placed['fulfillment']} delivered"] += 1
            seen["delivered late"] += when(delivered) > deliver_by
            seen["scanned"] += "shipment.scanned" in types
        if "return.requested" in types and "refund.issued" in types:
            steps = ["return.requested", "return.received", "refund.issued"]
            seen["return then refund"] += [t for t in types if t in steps] == steps
        feedback = [e["data"] for e in events if e["type"] == "feedback.posted"]
        seen["negative feedback"] += any(f["rating"] <= 2 for f in feedback)
        seen["positive feedback"] += any(f["rating"] >= 4 for f in feedback)
        seen["feedback replaced"] += (
            len(feedback) > 1 and len({f["feedback_id"] for f in feedback}) == 1
        )
        seen["feedback removed"] += "feedback.removed" in types
        for i, event in enumerate(events):
            if event["type"] != "message.received":
                continue
            body = event["data"]["body"].lower()
            for phrase in ("refund", "claim", "never arrived"):
                seen[f"message mentions {phrase}"] += phrase in body
            reply = next((e for e in events[i + 1 :] if e["type"] == "message.sent"), None)
            marked = any(
                e["type"] == "message.no_response_needed"
                and e["data"]["message_id"] == event["data"]["message_id"]
                for e in events
            )
            if marked:
                seen["message needs no response"] += 1
            elif reply is None:
                seen["message unanswered"] += 1
            elif when(reply) - when(event) <= timedelta(hours=1):
                seen["message answered within an hour"] += 1
            elif when(reply) - when(event) > timedelta(hours=24):
                seen["message answered late"] += 1
    expected = [
        "merchant",
        "marketplace",
        "cancelled by buyer",
        "cancelled by seller",
        "cancelled by marketplace",
        "cancelled by buyer after shipping",
        "never shipped past ship_by",
        "merchant shipped",
        "marketplace shipped",
        "merchant delivered",
        "marketplace delivered",
        "shipped late",
        "no tracking number",
        "no carrier scan",
        "delivered late",
        "scanned",
        "return then refund",
        "negative feedback",
        "positive feedback",
        "feedback replaced",
        "feedback removed",
        "message mentions refund",
        "message mentions claim",
        "message mentions never arrived",
        "message needs no response",
        "message unanswered",
        "message answered within an hour",
        "message answered late",
    ]
    assert [kind for kind in expected if not seen[kind]] == []
    # Plausible, not extreme: a few per cent of late shipments and cancellations.
    assert 0.005 < seen["shipped late"] / seen["merchant shipped"] < 0.06
    assert 0.01 < sum(v for k, v in seen.items() if k.startswith("cancelled")) / 6000 < 0.04


def test_deadlines_are_business_days_away_at_local_end_of_day() -> None:
    for events in by_order(ledger()).values():
        placed = events[0]
        ship_by = datetime.fromisoformat(placed["data"]["ship_by"])
        deliver_by = datetime.fromisoformat(placed["data"]["deliver_by"])
        local = when(placed).astimezone(LA)
        assert ship_by.utcoffset() == ship_by.astimezone(LA).utcoffset()
        assert 1 <= (ship_by.date() - local.date()).days <= 5
        assert ship_by.weekday() < 5
        assert 2 <= (deliver_by.date() - ship_by.date()).days <= 5


def test_time_zones_follow_daylight_saving_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    events = list(
        generate_events(
            orders=300, sellers=2, days=20, seed=5, end=date(2026, 11, 5), marketplace="DE"
        )
    )
    placed = [e["data"] for e in events if e["type"] == "order.placed"]
    offsets = {p["ship_by"][-6:] for p in placed}
    assert offsets == {"+02:00", "+01:00"}
    assert {p["total"]["currency"] for p in placed} == {"EUR"}
    for p in placed:
        deadline = datetime.fromisoformat(p["ship_by"])
        assert deadline.astimezone(berlin).time().isoformat() == "23:59:59"


def test_seller_volumes_are_skewed_and_some_sellers_are_unhealthy() -> None:
    volumes = Counter(e["seller"] for e in ledger() if e["type"] == "order.placed")
    assert set(volumes) == {f"S-{1001 + i}" for i in range(10)}
    assert volumes["S-1001"] > 3 * volumes["S-1010"]
    profiles = seller_profiles(200, seed=7)
    default = SellerProfile(seller="x")
    troubled = [
        p
        for p in profiles
        if p.late_ship > 0.05 or p.negative_feedback > 0.01 or p.message_response < 0.8
    ]
    assert 10 < len(troubled) < 100
    assert default.late_ship < 0.04 and default.negative_feedback < 0.01


def _rates(events: Iterable[Event]) -> dict[str, dict[str, float]]:
    """Per seller: the share of late merchant shipments and a plain Order Defect Rate."""
    late: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    odr: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for events_of_order in by_order(events).values():
        placed = events_of_order[0]
        seller = placed["seller"]
        shipped = next((e for e in events_of_order if e["type"] == "order.shipped"), None)
        if placed["data"]["fulfillment"] == "merchant" and shipped is not None:
            late[seller][0] += when(shipped) > datetime.fromisoformat(placed["data"]["ship_by"])
            late[seller][1] += 1
        age = (END - when(placed).astimezone(LA).date()).days
        if not 14 <= age < 74:
            continue
        ratings: dict[str, int] = {}
        removed: set[str] = set()
        claim = chargeback = None
        service = False
        for event in events_of_order:
            data = event["data"]
            if event["type"] == "feedback.posted":
                ratings[data["feedback_id"]] = data["rating"]
            elif event["type"] == "feedback.removed":
                removed.add(data["feedback_id"])
            elif event["type"] in ("claim.filed", "claim.decided"):
                claim = data.get("outcome", "open")
            elif event["type"] in ("chargeback.filed", "chargeback.decided"):
                chargeback = data.get("outcome", "open")
                service = service or data.get("reason") not in (None, "fraud", "unrecognized")
        defect = (
            any(rating <= 2 and f not in removed for f, rating in ratings.items())
            or claim in ("open", "refunded_by_seller", "granted_seller_funded")
            or (service and chargeback in ("open", "lost", "accepted"))
        )
        odr[seller][0] += defect
        odr[seller][1] += 1
    return {
        seller: {"late": late[seller][0] / late[seller][1], "odr": odr[seller][0] / odr[seller][1]}
        for seller in late
    }


def test_demo_profiles_have_the_intended_health() -> None:
    rates = _rates(demo_ledger())
    assert rates["S-1"]["odr"] > 0.015 and rates["S-1"]["late"] < 0.04
    assert rates["S-2"]["odr"] < 0.005 and rates["S-2"]["late"] < 0.02
    assert rates["S-3"]["odr"] < 0.01 and rates["S-3"]["late"] > 0.05


def test_default_sellers_range_from_healthy_to_failing() -> None:
    rates = _rates(ledger(orders=8000, sellers=20, seed=2))
    odr = sorted(r["odr"] for r in rates.values())
    assert odr[len(odr) // 2] < 0.01  # most sellers are in good standing
    assert odr[-1] > 0.01 or max(r["late"] for r in rates.values()) > 0.04


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="days"):
        generate_events(orders=10, days=0, seed=1, end=END)
    with pytest.raises(ValueError, match="time zone"):
        generate_events(orders=10, days=5, seed=1, end=END, timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="unique"):
        generate_events(
            orders=10,
            profiles=[SellerProfile("S-1"), SellerProfile("S-1")],
            days=5,
            seed=1,
            end=END,
        )


def test_generate_command_writes_the_same_ledger_to_a_file_and_to_stdout(tmp_path: Any) -> None:
    arguments = ["--orders", "200", "--sellers", "4", "--days", "20", "--seed", "9"]
    arguments += ["--end", "2026-10-01"]
    out, err = io.StringIO(), io.StringIO()
    call_command("generate", *arguments, stdout=out, stderr=err)
    target = tmp_path / "ledger.ndjson"
    call_command("generate", *arguments, "--out", str(target), stderr=io.StringIO())
    expected = ndjson(orders=200, sellers=4, days=20, seed=9, end=END)
    assert target.read_bytes() == expected
    assert out.getvalue().encode() == expected
    assert re.match(r"^[\d,]+ events, 200 orders in [\d.]+s", err.getvalue())


def test_long_tail_sizes_have_a_few_very_large_sellers_and_a_tail_of_small_ones() -> None:
    weights = long_tail_weights(100_000, seed=7)
    assert len(weights) == 100_000 and abs(sum(weights) - 1) < 1e-9
    # At 10,000,000 orders: ten sellers of 100,000+ orders, a tail with a few dozen each.
    orders = sorted((w * 10_000_000 for w in weights), reverse=True)
    assert all(n >= 100_000 for n in orders[:10]) and orders[10] < 10_000
    tail = orders[10:]
    assert 20 < tail[len(tail) // 2] < 60
    assert sum(1 for n in tail if n < 200) > 0.9 * len(tail)
    assert long_tail_weights(1, seed=1) == [1.0]
    profiles = seller_profiles(50, seed=3, sizes="long-tail")
    assert profiles[0].weight == max(p.weight for p in profiles)
    # The same sellers and troubles as the default sizes: only the volumes differ.
    plain = seller_profiles(50, seed=3)
    assert [(p.seller, p.late_ship) for p in profiles] == [(p.seller, p.late_ship) for p in plain]
    with pytest.raises(ValueError, match="seller sizes"):
        seller_profiles(5, seed=1, sizes="flat")


def test_two_marketplaces_on_either_side_of_utc_make_one_time_ordered_ledger() -> None:
    profiles = seller_profiles(30, seed=5, sizes="long-tail")
    arguments: dict[str, Any] = {"orders": 1000, "profiles": profiles, "days": 20, "end": END}
    events = list(generate_marketplaces_events(marketplaces=["US", "CN"], seed=5, **arguments))
    assert [when(e) for e in events] == sorted(when(e) for e in events)
    assert len({e["id"] for e in events}) == len(events)
    placed = [e for e in events if e["type"] == "order.placed"]
    by_market = Counter(e["marketplace"] for e in placed)
    assert by_market == {"US": 700, "CN": 300}
    assert len({(e["marketplace"], e["order"]) for e in placed}) == 1000
    both = {e["seller"] for e in placed if e["marketplace"] == "CN"}
    assert "S-1001" in both and both < {e["seller"] for e in placed if e["marketplace"] == "US"}
    # Deadlines at the end of the local day: Los Angeles behind UTC, Shanghai ahead of it.
    offsets = {e["marketplace"]: e["data"]["ship_by"][-6:] for e in placed}
    assert offsets["CN"] == "+08:00" and offsets["US"] in ("-07:00", "-08:00")
    markets = {
        "US": MarketplaceInfo(code="US", currency="USD"),
        "CN": MarketplaceInfo(code="CN", currency="CNY"),
    }
    assert [e["id"] for e in events[::5] if isinstance(event_validate(e, markets), list)] == []
    again = list(generate_marketplaces_events(marketplaces=["US", "CN"], seed=5, **arguments))
    assert again == events
    with pytest.raises(ValueError, match="repeat"):
        generate_marketplaces_events(marketplaces=["US", "US"], seed=5, **arguments)


def test_generate_command_makes_a_long_tailed_two_marketplace_ledger(tmp_path: Any) -> None:
    target = tmp_path / "two.ndjson"
    arguments = ["--orders", "300", "--sellers", "20", "--days", "10", "--seed", "4"]
    arguments += ["--end", "2026-10-01", "--sizes", "long-tail", "--marketplace", "US,CN"]
    call_command("generate", *arguments, "--out", str(target), stderr=io.StringIO())
    events = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    expected = generate_marketplaces_events(
        orders=300,
        marketplaces=["US", "CN"],
        profiles=seller_profiles(20, seed=4, sizes="long-tail"),
        days=10,
        seed=4,
        end=END,
    )
    assert events == list(expected)
    for bad, message in (
        (["--marketplace", "US,US"], "distinct"),
        (["--marketplace", "US,"], "distinct"),
        (["--marketplace", "US,CN", "--timezone", "UTC"], "one marketplace"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("generate", "--orders", "5", *bad, stdout=io.StringIO())
