"""The merchant's reply to a buyer: a `message.sent` event through the one ingestion action."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from defectdesk.accounts.roles import Principal
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import FieldError, Forbidden, ValidationFailed
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Order
from defectdesk.webhooks.outbox import webhook_emit

MAX_BODY = 4000


def message_reply(*, actor: Actor, principal: Principal, order: Order, body: str) -> str:
    """Send the buyer a message on this order; returns the new message id."""
    if not principal.may_write_seller(order.seller_id):
        raise Forbidden("Only the seller's owners and staff may message the buyer.")
    text = body.strip()
    if not text:
        raise ValidationFailed("The message was not sent.", [FieldError("body", "is empty")])
    if len(text) > MAX_BODY:
        raise ValidationFailed(
            "The message was not sent.",
            [FieldError("body", f"is {len(text):,} characters; the limit is {MAX_BODY:,}")],
        )
    message_id = f"reply-{uuid.uuid4().hex[:16]}"
    event = {
        "id": message_id,
        "type": "message.sent",
        "occurred_at": timezone.now().isoformat(),
        "marketplace": order.marketplace.code,
        "seller": order.seller.external_id,
        "order": order.order_ref,
        "data": {"message_id": message_id, "body": text},
    }
    with transaction.atomic():
        result = events_ingest([Candidate(0, event)])
        if result.rejected:
            raise ValidationFailed("The message was not sent.", list(result.rejected[0].errors))
        webhook_emit(
            "message.sent",
            {
                "message_id": message_id,
                "seller": event["seller"],
                "marketplace": event["marketplace"],
                "order": event["order"],
                "body": text,
                "sent_at": event["occurred_at"],
            },
            seller_id=order.seller_id,
        )
        audit_record(
            actor=actor,
            action="message.reply",
            object_type="order",
            object_id=order.pk,
            seller_id=order.seller_id,
            data={"message_id": message_id},
        )
    return message_id
