"""Buyer messages: the response clock, at-risk orders and the merchant's reply."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from defectdesk.accounts.roles import principal_for_user
from defectdesk.core.actors import Actor
from defectdesk.core.errors import Forbidden, ValidationFailed
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Order
from defectdesk.messaging.actions import message_reply
from defectdesk.messaging.models import BuyerMessage
from defectdesk.messaging.selectors import at_risk_orders
from defectdesk.messaging.threads import message_mentions


def ingest(*events: dict[str, Any]) -> None:
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert not result.rejected, result.rejected


def test_mentions_are_recognised() -> None:
    assert message_mentions("My package never arrived, I want a refund") == [
        "refund",
        "not_received",
    ]
    assert message_mentions("I will file an A-to-z claim") == ["claim"]
    assert message_mentions("Thanks, lovely mug") == []


def test_buyer_message_is_answered_by_the_first_later_seller_message(
    cast: Any, make_event: Any
) -> None:
    ingest(
        make_event(at="2026-10-01T12:00:00Z"),
        make_event(
            "message.received",
            at="2026-10-02T09:00:00Z",
            message_id="m1",
            body="Where is my order?",
        ),
        make_event("message.sent", at="2026-10-02T08:00:00Z", message_id="s0", body="early"),
        make_event("message.sent", at="2026-10-02T10:30:00Z", message_id="s1", body="On its way"),
    )
    row = BuyerMessage.objects.get()
    assert row.answered_at == datetime(2026, 10, 2, 10, 30, tzinfo=UTC)
    assert row.mentions == "not_received"


@pytest.fixture
def risky(cast: Any, make_event: Any) -> None:
    ingest(
        # ship by 2026-10-04 06:59:59 UTC, not shipped yet
        make_event(order="o-ship", at="2026-10-01T12:00:00Z"),
        # shipped, no scan
        make_event(order="o-scan", at="2026-10-01T12:00:00Z"),
        make_event(
            "order.shipped", order="o-scan", at="2026-10-01T18:00:00Z", tracking_number="1Z"
        ),
        # an unanswered buyer message that threatens a claim
        make_event(order="o-msg", at="2026-09-30T12:00:00Z"),
        make_event(
            "order.shipped", order="o-msg", at="2026-09-30T18:00:00Z", tracking_number="1Z9"
        ),
        make_event("shipment.scanned", order="o-msg", at="2026-09-30T20:00:00Z", status="accepted"),
        make_event(
            "message.received",
            order="o-msg",
            at="2026-10-01T20:00:00Z",
            message_id="m9",
            body="I'll open an A-to-z claim",
        ),
    )


def test_at_risk_lists_each_reason_with_its_action(risky: None) -> None:
    seller = Order.objects.get(order_ref="o-ship").seller
    now = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
    found = {r.order.order_ref: {x.reason for x in r.risks} for r in at_risk_orders(seller, now)}
    assert found == {
        "o-ship": {"ship_by_soon"},
        "o-scan": {"no_carrier_scan"},
        "o-msg": {"message_unanswered", "message_warning"},
    }


def test_reply_answers_the_buyer_and_clears_the_risk(cast: Any, risky: None) -> None:
    order = Order.objects.get(order_ref="o-msg")
    alice = cast["alice"]
    with time_machine.travel(datetime(2026, 10, 2, 12, 0, tzinfo=UTC), tick=False):
        message_reply(
            actor=Actor(user=alice),
            principal=principal_for_user(alice),
            order=order,
            body="Sorry! It is at the depot and arrives tomorrow.",
        )
        assert BuyerMessage.objects.get(message_id="m9").answered_at is not None
        risks = {
            r.order.order_ref
            for r in at_risk_orders(order.seller, datetime(2026, 10, 2, 12, 0, tzinfo=UTC))
        }
    assert "o-msg" not in risks


def test_read_only_staff_cannot_reply_and_empty_reply_is_refused(cast: Any, risky: None) -> None:
    order = Order.objects.get(order_ref="o-msg")
    bob = cast["bob"]
    with pytest.raises(Forbidden):
        message_reply(
            actor=Actor(user=bob), principal=principal_for_user(bob), order=order, body="hello"
        )
    alice = cast["alice"]
    with pytest.raises(ValidationFailed):
        message_reply(
            actor=Actor(user=alice), principal=principal_for_user(alice), order=order, body="   "
        )


def test_the_order_page_shows_the_buyer_thread_and_takes_a_reply(cast: Any, risky: None) -> None:
    from tests.test_appeal_support import client_for

    url = "/orders/US/o-msg/"
    with time_machine.travel(datetime(2026, 10, 2, 12, 0, tzinfo=UTC), tick=False):
        alice = client_for(cast["alice"])
        page = alice.get(url).content.decode()
        assert "Buyer messages" in page and "A-to-z claim" in page and "left to answer" in page
        assert "Send reply" in page
        # Refused: nothing sent, the message and what was typed are shown by the field.
        empty = alice.post(url + "reply/", {"body": "   "})
        assert empty.status_code == 200 and "is empty" in empty.content.decode()
        assert BuyerMessage.objects.get(message_id="m9").answered_at is None
        sent = alice.post(url + "reply/", {"body": "<script>alert(1)</script> On its way!"})
        assert sent.status_code == 302 and sent["Location"].endswith("/orders/US/o-msg/")
        assert BuyerMessage.objects.get(message_id="m9").answered_at is not None
        after = alice.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt; On its way!" in after
        assert "<script>alert(1)</script>" not in after
        assert "Answered" in after
        # Read-only staff see the thread without the form and may not post; others see nothing.
        bob = client_for(cast["bob"])
        assert "Send reply" not in bob.get(url).content.decode()
        assert bob.post(url + "reply/", {"body": "hi"}).status_code == 403
        assert client_for(cast["carol"]).post(url + "reply/", {"body": "hi"}).status_code == 404
        assert alice.get(url + "reply/").status_code == 405
