"""Events in: validation, duplicates, pending events and the orders projection."""

from __future__ import annotations

from typing import Any

from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Event, Order


def ingest(*events: dict[str, Any]) -> Any:
    return events_ingest([Candidate(i, e) for i, e in enumerate(events)])


def test_placed_order_is_projected(marketplace: Any, make_event: Any) -> None:
    result = ingest(
        make_event(),
        make_event("order.shipped", at="2026-10-02T10:00:00Z", carrier="UPS", tracking_number="1Z"),
    )
    assert (result.created, result.duplicates, result.rejected) == (2, 0, [])
    order = Order.objects.get()
    assert order.status == "shipped"
    assert order.tracking_number == "1Z"
    assert str(order.order_date) == "2026-10-01"


def test_repeat_is_a_duplicate_and_changed_body_is_rejected(
    marketplace: Any, make_event: Any
) -> None:
    placed = make_event()
    ingest(placed)
    again = ingest(placed)
    assert (again.created, again.duplicates) == (0, 1)
    changed = dict(placed, data=dict(placed["data"], buyer="B-2"))
    result = ingest(changed)
    assert result.rejected[0].errors[0].field == "id"
    assert Event.objects.count() == 1


def test_event_before_its_order_waits_and_is_applied(marketplace: Any, make_event: Any) -> None:
    shipped = make_event("order.shipped", at="2026-10-02T10:00:00Z", tracking_number="1Z")
    ingest(shipped)
    assert not Order.objects.exists()
    ingest(make_event())
    assert Order.objects.get().status == "shipped"


def test_second_placed_and_foreign_seller_are_rejected(marketplace: Any, make_event: Any) -> None:
    ingest(make_event())
    result = ingest(make_event(), make_event("order.shipped", seller="S-2"))
    fields = sorted(r.errors[0].field for r in result.rejected)
    assert fields == ["order", "seller"]
    assert Event.objects.count() == 1


def test_text_that_copy_escapes_is_stored_as_sent(marketplace: Any, make_event: Any) -> None:
    """Backslashes, tabs, newlines, carriage returns, a literal \\N and non-ASCII survive the
    bulk write exactly."""
    ref = '111-"\\{1},'
    tricky = 'tab\there\nnew line\r\nback\\slash \\N "quoted" \\t émoji 🙂'
    events = (
        make_event(event_id='evt-back\\slash"{q},', buyer="B\\1", order=ref),
        make_event(
            "message.received",
            at="2026-10-01T13:00:00Z",
            message_id="M\\1",
            body=tricky,
            order=ref,
        ),
    )
    assert ingest(*events).created == 2
    # Sent again, both are found by their ids (looked up in bulk) and count as repeats.
    again = ingest(*events)
    assert (again.created, again.duplicates, again.rejected) == (0, 2, [])
    stored = Event.objects.get(type="message.received")
    assert stored.data["body"] == tricky
    assert Event.objects.get(type="order.placed").event_id == 'evt-back\\slash"{q},'
    order = Order.objects.get()
    assert (order.order_ref, order.buyer, order.event_count) == (ref, "B\\1", 2)
    from defectdesk.messaging.models import BuyerMessage

    assert BuyerMessage.objects.get().body == tricky
