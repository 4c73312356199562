"""An import that keeps folded orders between batches ends where a full rebuild does."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import orjson
import pytest

from defectdesk.core.actors import SYSTEM
from defectdesk.defects.models import Defect
from defectdesk.ledger.actions import marketplace_set
from defectdesk.ledger.generator import generate_events
from defectdesk.ledger.importer import import_path, import_stream
from defectdesk.ledger.ingest import Candidate, FoldCache, events_ingest
from defectdesk.ledger.models import Order
from defectdesk.ledger.rebuild import ledger_rebuild
from defectdesk.metrics.models import DailyCounter


def snapshot() -> tuple[list[Any], list[Any], list[Any]]:
    orders = list(
        Order.objects.order_by("order_ref").values_list(
            "order_ref",
            "status",
            "shipped_at",
            "first_scan_at",
            "delivered_at",
            "cancelled_at",
            "refunded_amount",
            "feedback_rating",
            "event_count",
            "last_event_at",
        )
    )
    defects = list(
        Defect.objects.order_by("order__order_ref", "kind", "source_key").values_list(
            "order__order_ref", "kind", "source_key", "status", "opened_at", "removed_at"
        )
    )
    counters = list(
        DailyCounter.objects.exclude(delta=0)
        .order_by("seller_id", "metric", "part", "key_day", "change_day")
        .values_list("seller_id", "metric", "part", "key_day", "change_day", "delta")
    )
    return orders, defects, counters


@pytest.mark.django_db(transaction=True)
def test_cached_import_matches_a_rebuild_even_with_a_writer_in_between() -> None:
    marketplace_set(actor=SYSTEM, code="US", timezone="America/Los_Angeles", currency="USD")
    events = list(generate_events(orders=400, sellers=4, days=40, seed=3, end=date(2026, 10, 31)))
    half = len(events) // 2
    first = b"".join(orjson.dumps(e) + b"\n" for e in events[:half])
    result = import_stream(io.BytesIO(first), "ndjson", batch_size=150)
    assert not result.rejected
    # Another writer adds an event to an order the import has cached.
    shipped = next(e for e in events[:half] if e["type"] == "order.shipped")
    extra = dict(
        shipped,
        id="extra-scan",
        type="shipment.scanned",
        data={"status": "in_transit", "location": "Reno"},
    )
    assert events_ingest([Candidate(0, extra)]).created == 1
    second = b"".join(orjson.dumps(e) + b"\n" for e in events[half:])
    cache = FoldCache()
    result = import_stream(io.BytesIO(second), "ndjson", batch_size=150, cache=cache)
    assert not result.rejected
    assert cache.hits > 0 and cache.misses > 0
    imported = snapshot()
    ledger_rebuild()
    assert snapshot() == imported
    assert Order.objects.get(order_ref=shipped["order"]).first_scan_at is not None


@pytest.mark.django_db(transaction=True)
def test_parallel_import_equals_a_rebuild_and_lists_rejects_by_line(tmp_path: Any) -> None:
    marketplace_set(actor=SYSTEM, code="US", timezone="America/Los_Angeles", currency="USD")
    events = list(generate_events(orders=300, sellers=6, days=30, seed=5, end=date(2026, 10, 31)))
    lines = [orjson.dumps(e) for e in events]
    lines.insert(100, b'{"id": "broken", ')
    bad = dict(
        events[5], id="bad-rating", type="feedback.posted", data={"feedback_id": "F", "rating": 9}
    )
    lines.insert(200, orjson.dumps(bad))
    path = tmp_path / "ledger.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = import_path(str(path), batch_size=97, workers=3)
    assert result.created == len(events)
    assert [(r.position, r.event_id) for r in result.rejected] == [(101, None), (201, "bad-rating")]
    imported = snapshot()
    ledger_rebuild()
    assert snapshot() == imported
    again = import_path(str(path), batch_size=500, workers=2)
    assert (again.created, again.duplicates) == (0, len(events))


def test_workers_get_about_the_same_number_of_lines_when_sellers_are_skewed(
    tmp_path: Any,
) -> None:
    """One seller with most of the lines does not leave the other workers idle."""
    from collections import Counter

    from defectdesk.ledger.importer import _line_slot, slot_assignment

    sellers = ["S-BIG"] * 30 + [f"S-{n}" for n in range(40)]
    path = tmp_path / "skewed.ndjson"
    with path.open("wb") as stream:
        for i in range(20_000):
            seller = sellers[i % len(sellers)]
            stream.write(orjson.dumps({"id": f"e{i}", "seller": seller, "order": "o"}) + b"\n")
    for parts in (2, 3):
        assignment = slot_assignment(str(path), parts)
        assert sorted(set(assignment)) == list(range(parts))
        with path.open("rb") as stream:
            lines = Counter(assignment[_line_slot(line)] for line in stream)
        heaviest = max(lines.values())
        # The big seller's slot alone holds 30/70 of the lines: balance is what remains.
        assert heaviest <= max(20_000 * 30 / 70, 20_000 / parts) * 1.1, lines


def test_read_ahead_groups_an_orders_lines_and_keeps_their_order() -> None:
    """Every line comes out once; one order's lines stay in order and together; a repeated
    event id stays behind its first line, even under another order."""
    from defectdesk.ledger.importer import regrouped_batches

    lines: list[bytes] = []
    for day in range(5):
        for order in range(6):
            event = {"id": f"e{day}-{order}", "marketplace": "US", "order": f"o{order}"}
            lines.append(orjson.dumps(event))
    # The same id as o1's first line, under o4: it must follow that line, not o4's others.
    lines.append(orjson.dumps({"id": "e0-1", "marketplace": "US", "order": "o4"}))
    lines.append(b"not json")
    numbered = list(enumerate(lines, start=1))
    batches = list(regrouped_batches(numbered, size=7, ahead=1000, max_line_bytes=10_000))
    out = [c for batch in batches for c in batch]
    assert all(len(b) <= 7 for b in batches)
    assert sorted(c.position for c in out) == list(range(1, len(lines) + 1))
    for order in range(6):
        mine = [c.position for c in out if c.raw and c.raw["order"] == f"o{order}"]
        mine = [p for p in mine if p != 31]
        assert mine == sorted(mine)
        # Read ahead, an order's five lines sit side by side instead of a day apart.
        at = [i for i, c in enumerate(out) if c.position in mine]
        assert at[-1] - at[0] == len(at) - 1 or order == 1
    # The repeat joins o1's group, after its first line (and, by position, o1's others).
    o1 = [i for i, c in enumerate(out) if c.raw and c.raw["order"] == "o1"]
    assert [out[i].position for i in o1] == [2, 8, 14, 20, 26]
    assert out[o1[-1] + 1].position == 31
    assert next(c for c in out if c.position == 32).errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ahead", [1, 50, 100_000])
def test_any_read_ahead_imports_what_a_rebuild_gives(
    tmp_path: Any, settings: Any, ahead: int
) -> None:
    settings.INGEST_READ_AHEAD = ahead
    marketplace_set(actor=SYSTEM, code="US", timezone="America/Los_Angeles", currency="USD")
    events = list(generate_events(orders=200, sellers=5, days=30, seed=11, end=date(2026, 10, 31)))
    # An id used twice with different bodies: the first line wins, the second is a clash.
    clash = dict(events[-1], id=events[3]["id"])
    lines = [orjson.dumps(e) for e in [*events, clash]]
    path = tmp_path / "ledger.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = import_path(str(path), batch_size=61, workers=1)
    assert result.created == len(events)
    assert [(r.position, r.event_id) for r in result.rejected] == [(len(lines), events[3]["id"])]
    imported = snapshot()
    ledger_rebuild()
    assert snapshot() == imported
