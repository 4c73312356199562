"""Keeps BuyerMessage rows in step with the ledger, in bulk per batch."""

from __future__ import annotations

from collections.abc import Sequence

from defectdesk.core.bulk import bulk_upsert
from defectdesk.ledger.projection import OrderChange
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

    def apply(self, changes: Sequence[OrderChange]) -> None:
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

    def reset(self) -> None:
        """Rows are keyed by (order, message) and upserted, so a rebuild overwrites them."""


message_projector = MessageProjector()
