"""`defectdesk import`: every kind of bad input is named and nothing valid is lost."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
from django.core.management import call_command
from django.core.management.base import CommandError

from defectdesk.ledger.models import Event, Order


def valid_events(make_event: Any, n: int) -> list[dict[str, Any]]:
    return [make_event(order=f"111-0000000-{i:07d}", event_id=f"ok-{i:05d}") for i in range(n)]


def bad_events(make_event: Any) -> list[tuple[str, str, dict[str, Any] | str]]:
    """(expected field, label, event or raw line) for each kind of bad input."""
    ok = make_event(order="111-9999999-0000001", event_id="base-placed")
    unknown_type = make_event("order.teleported", event_id="bad-type")
    missing = make_event(
        "feedback.posted", event_id="bad-missing", order="111-0000000-0000001", feedback_id="F1"
    )
    ill_typed = make_event(
        "feedback.posted",
        event_id="bad-illtyped",
        order="111-0000000-0000001",
        feedback_id="F2",
        rating="five",
    )
    naive = make_event(event_id="bad-naive", order="111-9999999-0000002", at="2026-10-01T12:00:00")
    unknown_market = make_event(
        event_id="bad-market", order="111-9999999-0000003", marketplace="ZZ"
    )
    other_seller = make_event(
        "order.shipped", event_id="bad-seller", order="111-0000000-0000002", seller="S-2"
    )
    non_decimal = make_event(
        event_id="bad-amount",
        order="111-9999999-0000004",
        total={"amount": "12,50", "currency": "USD"},
    )
    currency = make_event(
        event_id="bad-currency",
        order="111-9999999-0000005",
        total={"amount": "12.50", "currency": "EUR"},
    )
    rating = make_event(
        "feedback.posted",
        event_id="bad-rating",
        order="111-0000000-0000003",
        feedback_id="F3",
        rating=6,
    )
    reused = dict(valid_events(make_event, 1)[0], data={**ok["data"], "buyer": "B-other"})
    second_placed = make_event(event_id="bad-second-placed", order="111-0000000-0000004")
    return [
        ("type", "unknown type", unknown_type),
        ("data.rating", "missing field", missing),
        ("data.rating", "ill-typed field", ill_typed),
        ("occurred_at", "naive timestamp", naive),
        ("marketplace", "unknown marketplace", unknown_market),
        ("seller", "seller other than the order's", other_seller),
        ("data.total.amount", "non-decimal amount", non_decimal),
        ("data.total.currency", "foreign currency", currency),
        ("data.rating", "rating outside 1-5", rating),
        ("id", "id reused with another body", reused),
        ("order", "second order.placed", second_placed),
        ("line", "malformed JSON", '{"id": "broken", "type": '),
    ]


def write_ndjson(path: Path, items: list[Any]) -> None:
    with path.open("wb") as f:
        for item in items:
            f.write(item.encode() if isinstance(item, str) else orjson.dumps(item))
            f.write(b"\n")


def run_import(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import", *args, "--quiet", stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def test_thousand_valid_and_one_of_each_bad_kind(
    tmp_path: Path, marketplace: Any, make_event: Any
) -> None:
    good = valid_events(make_event, 1000)
    bad = bad_events(make_event)
    lines: list[Any] = good[:500] + [b for _, _, b in bad] + good[500:]
    path = tmp_path / "events.ndjson"
    write_ndjson(path, lines)
    code, out = run_import(str(path), "--batch-size", "300")
    assert code == 1
    assert "1,000 created, 0 duplicates, 12 rejected" in out
    for field, label, event in bad:
        line_no = lines.index(event) + 1
        event_id = event["id"] if isinstance(event, dict) else "-"
        assert f"line {line_no}: id {event_id}: {field}:" in out, label
    assert Event.objects.count() == 1000
    assert Order.objects.count() == 1000

    code, out = run_import(str(path))
    assert "0 created, 1,000 duplicates, 12 rejected" in out
    assert Event.objects.count() == 1000


def test_csv_with_bom_crlf_and_quoted_newlines(tmp_path: Path, marketplace: Any) -> None:
    header = (
        "id,type,occurred_at,marketplace,seller,order,data.buyer,data.fulfillment,"
        "data.total.amount,data.total.currency,data.ship_by,data.deliver_by,data.comment,"
        "data.feedback_id,data.rating"
    )
    rows = [
        "c-1,order.placed,2026-10-01T12:00:00Z,US,S-1,111-1,B-1,merchant,19.99,USD,"
        "2026-10-03T23:59:59-07:00,2026-10-08T23:59:59-07:00,,,",
        'c-2,feedback.posted,2026-10-09T12:00:00Z,US,S-1,111-1,,,,,,,"Late,\r\nand broken",F-1,1',
    ]
    path = tmp_path / "events.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join([header, *rows]) + "\r\n").encode())
    code, out = run_import(str(path))
    assert code == 0, out
    assert "2 created" in out
    comment = Event.objects.get(event_id="c-2").data["comment"]
    assert comment == "Late,\r\nand broken"
    assert Order.objects.get().feedback_rating == 1


def test_csv_without_a_required_column_is_refused_whole(tmp_path: Path, marketplace: Any) -> None:
    path = tmp_path / "events.csv"
    path.write_text("id,type,marketplace,seller,order\nx,order.placed,US,S-1,1\n")
    code, _out = run_import(str(path))
    assert code == 4  # the file cannot be read as events: not "some events were rejected"
    assert not Event.objects.exists()


def test_empty_file_imports_nothing(tmp_path: Path, marketplace: Any) -> None:
    path = tmp_path / "empty.ndjson"
    path.write_bytes(b"")
    code, out = run_import(str(path))
    assert code == 0
    assert "0 created, 0 duplicates, 0 rejected" in out


def test_huge_line_is_rejected_without_losing_its_neighbours(
    tmp_path: Path, marketplace: Any, make_event: Any, settings: Any
) -> None:
    settings.INGEST_MAX_LINE_BYTES = 64 * 1024
    path = tmp_path / "big.ndjson"
    with path.open("wb") as f:
        f.write(orjson.dumps(make_event(order="o-1", event_id="before")) + b"\n")
        f.write(b'{"id": "huge", "data": "' + b"x" * (5 * 1024 * 1024) + b'"}\n')
        f.write(orjson.dumps(make_event(order="o-2", event_id="after")) + b"\n")
    code, out = run_import(str(path))
    assert code == 1
    assert "line 2: id -: line: is longer than 65,536 bytes" in out
    assert set(Event.objects.values_list("event_id", flat=True)) == {"before", "after"}


def test_hundred_megabyte_line(tmp_path: Path, marketplace: Any, make_event: Any) -> None:
    path = tmp_path / "huge.ndjson"
    with path.open("wb") as f:
        f.write(b'{"id": "huge", "data": "' + b"x" * (100 * 1024 * 1024) + b'"}\n')
        f.write(orjson.dumps(make_event(order="o-2", event_id="after")) + b"\n")
    code, _out = run_import(str(path))
    assert code == 1
    assert Event.objects.filter(event_id="after").exists()
