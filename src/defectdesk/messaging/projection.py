"""Keeps BuyerMessage rows in step with the ledger, in bulk per batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from defectdesk.core.bulk import bulk_upsert
from defectdesk.ledger.projection import OrderChange, PendingOrder
from defectdesk.messaging.models import BuyerMessage
from defectdesk.messaging.threads import buyer_messages

COLUMNS = [
    "order_id",
    "seller_id",
    "message_id",
    "received_at",
    "body",
    "answered_at",
    "no_response_needed_at",
    "mentions",
]


class MessageProjector:
    name = "messages"
    order_columns: tuple[str, ...] = ()

    def order_values(self, pending: Sequence[PendingOrder], facts: Any) -> list[tuple[Any, ...]]:
        return [() for _ in pending]

    def apply(self, changes: Sequence[OrderChange], facts: Any) -> None:
        rows = [
            [
                c.order_id,
                c.seller_id,
                m.message_id,
                m.received_at,
                m.body[:10_000],
                m.answered_at,
                m.no_response_needed_at,
                ",".join(m.mentions),
            ]
            for c in changes
            if c.after.messages
            for m in buyer_messages(c.after)
        ]
        bulk_upsert(BuyerMessage._meta.db_table, COLUMNS, rows, ["order_id", "message_id"])

    def retract(self, changes: Sequence[OrderChange], facts: Any) -> None:
        """Nothing to take back: buyer messages do not depend on defects."""

    def reset(self) -> None:
        """Rows are keyed by (order, message) and upserted, so a rebuild overwrites them."""

    def reset_marketplace(self, marketplace_id: int) -> None:
        """As reset(), for one marketplace."""


message_projector = MessageProjector()
