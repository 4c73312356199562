"""GET /api/v1/orders and /orders/{marketplace}/{order}, at-risk orders and replies."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from defectdesk.accounts.actions import token_create
from defectdesk.core.actors import SYSTEM
from defectdesk.ledger.ingest import Candidate, events_ingest


@pytest.fixture
def orders(cast: Any, make_event: Any) -> None:
    def ev(kind: str, order: str, at: str, **data: Any) -> dict[str, Any]:
        return make_event(
            kind, order=order, seller="S-2" if order[0] == "2" else "S-1", at=at, **data
        )

    events = [
        ev("order.placed", "111-0000001", "2026-10-01T12:00:00Z", payment_ref="pi_1"),
        ev("order.shipped", "111-0000001", "2026-10-01T18:00:00Z", tracking_number="1ZONE"),
        ev("shipment.scanned", "111-0000001", "2026-10-01T20:00:00Z", status="accepted"),
        ev("order.delivered", "111-0000001", "2026-10-04T20:00:00Z"),
        ev("feedback.posted", "111-0000001", "2026-10-05T12:00:00Z", feedback_id="F1", rating=1),
        ev("order.placed", "111-0000002", "2026-10-02T12:00:00Z", buyer="B-9"),
        ev("order.shipped", "111-0000002", "2026-10-02T18:00:00Z", tracking_number="1ZTRACK"),
        ev("shipment.scanned", "111-0000002", "2026-10-02T20:00:00Z", status="accepted"),
        ev("order.delivered", "111-0000002", "2026-10-05T20:00:00Z"),
        ev("order.placed", "222-0000003", "2026-10-03T12:00:00Z"),
    ]
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert not result.rejected


def get(client: Client, url: str, **kw: Any) -> Any:
    return client.get(url, **kw)


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_merchant_lists_own_orders_newest_first(cast: Any, orders: None) -> None:
    body = as_user(cast["alice"]).get("/api/v1/orders").json()
    assert [o["order"] for o in body["items"]] == ["111-0000002", "111-0000001"]
    assert body["count"] == 2 and body["page"] == 1


def test_problem_kind_and_search_filters(cast: Any, orders: None) -> None:
    alice = as_user(cast["alice"])
    problem = alice.get("/api/v1/orders?problem=true").json()["items"]
    assert [o["order"] for o in problem] == ["111-0000001"]
    assert problem[0]["active_defects"] == ["negative_feedback"]
    assert alice.get("/api/v1/orders?kind=refund").json()["count"] == 0
    assert alice.get("/api/v1/orders?q=1ZTRACK").json()["items"][0]["order"] == "111-0000002"
    assert alice.get("/api/v1/orders?q=B-9").json()["count"] == 1
    assert alice.get("/api/v1/orders?q=MUG").json()["count"] == 2
    bad = alice.get("/api/v1/orders?kind=teleport")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    assert alice.get("/api/v1/orders?page=0").status_code == 422


def test_foreign_seller_filter_and_order_are_404(cast: Any, orders: None) -> None:
    carol = as_user(cast["carol"])
    assert carol.get("/api/v1/orders?seller=S-1").status_code == 404
    assert carol.get("/api/v1/orders/US/111-0000001").status_code == 404
    assert carol.get("/api/v1/orders/US/222-0000003").status_code == 200


def test_order_detail_has_events_and_defects(cast: Any, orders: None) -> None:
    body = as_user(cast["rita"]).get("/api/v1/orders/US/111-0000001").json()
    assert [e["type"] for e in body["events"]] == [
        "order.placed",
        "order.shipped",
        "shipment.scanned",
        "order.delivered",
        "feedback.posted",
    ]
    assert body["defects"][0]["kind"] == "negative_feedback"
    assert body["defects"][0]["appealable_until"] is not None
    assert body["appeals"] == []


def test_seller_token_sees_only_its_seller(cast: Any, orders: None) -> None:
    raw = token_create(actor=SYSTEM, name="s2", seller="S-2", read_only=True)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [o["order"] for o in client.get("/api/v1/orders").json()["items"]] == ["222-0000003"]
    assert client.get("/api/v1/orders/US/111-0000001").status_code == 404
    reply = client.post(
        "/api/v1/orders/US/222-0000003/messages", {"body": "hi"}, content_type="application/json"
    )
    assert reply.status_code == 403


def test_at_risk_endpoint(cast: Any, orders: None) -> None:
    alice = as_user(cast["alice"])
    response = alice.get("/api/v1/sellers/S-1/at-risk")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "count", "page", "page_size"}
    for item in body["items"]:
        assert item["risks"] and {"reason", "detail", "action", "due"} <= set(item["risks"][0])
    assert alice.get("/api/v1/sellers/S-2/at-risk").status_code == 404


def test_reply_to_the_buyer(cast: Any, orders: None) -> None:
    alice = as_user(cast["alice"])
    response = alice.post(
        "/api/v1/orders/US/111-0000002/messages",
        {"body": "Shipped today"},
        content_type="application/json",
    )
    assert response.status_code == 201
    detail = alice.get("/api/v1/orders/US/111-0000002").json()
    assert detail["events"][-1]["type"] == "message.sent"
    empty = alice.post(
        "/api/v1/orders/US/111-0000002/messages", {"body": ""}, content_type="application/json"
    )
    assert empty.status_code == 422


def test_a_deadline_still_ahead_is_not_a_problem_yet(cast: Any, make_event: Any) -> None:
    import time_machine

    from defectdesk.appeals.actions import appeal_create
    from defectdesk.core.errors import Conflict
    from defectdesk.defects.models import Defect

    placed = make_event(order="111-9", at="2026-10-01T12:00:00Z")  # ship by Oct 4 06:59 UTC
    with time_machine.travel("2026-10-02T12:00:00Z", tick=False):
        assert events_ingest([Candidate(0, placed)]).created == 1
        defect = Defect.objects.get(order__order_ref="111-9", kind="late_shipment")
        alice = as_user(cast["alice"])
        assert alice.get("/api/v1/orders?problem=true").json()["count"] == 0
        assert alice.get("/api/v1/orders/US/111-9").json()["active_defects"] == []
        with pytest.raises(Conflict, match="opens only on"):
            appeal_create(
                actor=cast["alice"],
                defect=defect,
                reason="other",
                explanation="The carrier collected it on time, see the scan record.",
            )
    with time_machine.travel("2026-10-05T12:00:00Z", tick=False):
        alice = as_user(cast["alice"])
        assert alice.get("/api/v1/orders?problem=true").json()["count"] == 1
