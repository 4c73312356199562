"""Hypothesis strategies for valid ledgers: a few orders with every kind of event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

BASE = datetime(2026, 9, 1, 7, 0, tzinfo=UTC)
TYPES = [
    "order.shipped",
    "shipment.scanned",
    "order.delivered",
    "order.cancelled",
    "return.requested",
    "return.received",
    "refund.issued",
    "feedback.posted",
    "feedback.removed",
    "claim.filed",
    "claim.decided",
    "chargeback.filed",
    "chargeback.decided",
    "message.received",
    "message.sent",
    "message.no_response_needed",
]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@st.composite
def order_events(
    draw: st.DrawFn, order_no: int, seller: str, marketplace: str = "US", currency: str = "USD"
) -> list[dict[str, Any]]:
    placed_at = BASE + timedelta(hours=draw(st.integers(0, 24 * 70)))
    ship_days = draw(st.integers(0, 3))
    order = f"111-{order_no:07d}-0000000"
    fulfillment = draw(st.sampled_from(["merchant", "marketplace"]))
    events: list[dict[str, Any]] = [
        {
            "type": "order.placed",
            "at": placed_at,
            "data": {
                "buyer": f"B-{order_no}",
                "fulfillment": fulfillment,
                "total": {"amount": "25.00", "currency": currency},
                "ship_by": _iso(placed_at + timedelta(days=ship_days, hours=5)),
                "deliver_by": _iso(placed_at + timedelta(days=ship_days + 5, hours=5)),
                "items": [{"sku": "SKU-1", "quantity": 1, "price": "25.00"}],
            },
        }
    ]
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(TYPES))
        # minutes after placement, sometimes exactly on a boundary
        offset = draw(
            st.one_of(
                st.integers(0, 60 * 24 * 60), st.sampled_from([0, 60 * 24, 60 * 48, 60 * 24 * 30])
            )
        )
        at = placed_at + timedelta(minutes=offset)
        key = draw(st.sampled_from(["a", "b"]))
        data: dict[str, Any]
        if kind == "order.shipped":
            data = {"carrier": "UPS"}
            if draw(st.booleans()):
                data["tracking_number"] = f"1Z{order_no}"
        elif kind == "shipment.scanned":
            data = {"status": draw(st.sampled_from(["accepted", "in_transit"]))}
        elif kind == "order.delivered":
            data = {"signature": draw(st.booleans())}
        elif kind == "order.cancelled":
            data = {"requested_by": draw(st.sampled_from(["buyer", "seller", "marketplace"]))}
        elif kind in ("return.requested", "return.received"):
            data = {"reason": "damaged"}
        elif kind == "refund.issued":
            data = {"amount": draw(st.sampled_from(["5.00", "25.00"]))}
        elif kind == "feedback.posted":
            data = {"feedback_id": f"F{key}", "rating": draw(st.integers(1, 5))}
        elif kind == "feedback.removed":
            data = {"feedback_id": f"F{key}"}
        elif kind == "claim.filed":
            data = {
                "claim_id": f"C{key}",
                "reason": draw(
                    st.sampled_from(
                        ["not_received", "not_as_described", "return_not_refunded", "other"]
                    )
                ),
            }
        elif kind == "claim.decided":
            data = {
                "claim_id": f"C{key}",
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
            }
        elif kind == "chargeback.filed":
            data = {
                "chargeback_id": f"K{key}",
                "reason": draw(
                    st.sampled_from(
                        [
                            "not_received",
                            "not_as_described",
                            "duplicate",
                            "fraud",
                            "unrecognized",
                            "other",
                        ]
                    )
                ),
            }
        elif kind == "chargeback.decided":
            data = {
                "chargeback_id": f"K{key}",
                "outcome": draw(st.sampled_from(["won", "lost", "accepted"])),
            }
        elif kind in ("message.received", "message.sent"):
            data = {"message_id": f"M{draw(st.integers(0, 3))}", "body": "hello"}
        else:
            data = {"message_id": f"M{draw(st.integers(0, 3))}"}
        events.append({"type": kind, "at": at, "data": data})
    return [
        {
            "id": f"e-{order_no}-{i:02d}",
            "type": e["type"],
            "occurred_at": _iso(e["at"]),
            "marketplace": marketplace,
            "seller": seller,
            "order": order,
            "data": e["data"],
        }
        for i, e in enumerate(events)
    ]


@st.composite
def ledgers(
    draw: st.DrawFn, max_orders: int = 5, marketplace: str = "US", currency: str = "USD"
) -> list[dict[str, Any]]:
    count = draw(st.integers(1, max_orders))
    events: list[dict[str, Any]] = []
    for n in range(count):
        seller = draw(st.sampled_from(["S-1", "S-2"]))
        events.extend(draw(order_events(n, seller, marketplace, currency)))
    return events
