"""The action behind POST /webhooks/stripe: record the delivery once, map it, ingest it."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Order, StripeWebhook
from defectdesk.ledger.stripe import chargeback_events, dispute_ref


def stripe_webhook_receive(event: dict[str, Any]) -> StripeWebhook:
    """Apply one verified Stripe event; a repeat of a known event id changes nothing."""
    event_id = str(event.get("id", ""))
    known = StripeWebhook.objects.filter(stripe_event_id=event_id).first()
    if known is not None:
        return known
    ref = dispute_ref(event)
    order = None
    if ref is not None:
        match = Q(payment_ref__in=ref.payment_refs) if ref.payment_refs else Q(pk__in=[])
        if ref.marketplace and ref.order:
            match |= Q(marketplace__code=ref.marketplace, order_ref=ref.order)
        order = Order.objects.select_related("marketplace", "seller").filter(match).first()
    record = StripeWebhook(
        stripe_event_id=event_id,
        type=str(event.get("type", ""))[:80],
        dispute_id=ref.dispute_id if ref else "",
        payload=event,
        received_at=timezone.now(),
        order=order,
    )
    if ref is None:
        record.status = StripeWebhook.Status.IGNORED
    elif order is None:
        record.status = StripeWebhook.Status.UNMATCHED
        record.detail = (
            f"no order has payment_ref {' or '.join(ref.payment_refs) or '-'} "
            "and the dispute's metadata names no known order"
        )
    try:
        with transaction.atomic():
            if order is not None:
                events = chargeback_events(
                    event,
                    marketplace=order.marketplace.code,
                    order=order.order_ref,
                    seller=order.seller.external_id,
                )
                result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
                problems = [r for r in result.rejected if not (r.event_id or "").endswith(":filed")]
                record.status = (
                    StripeWebhook.Status.REJECTED if problems else StripeWebhook.Status.APPLIED
                )
                record.detail = (
                    "; ".join(
                        f"{r.event_id}: {e.field}: {e.message}" for r in problems for e in r.errors
                    )
                    or f"{result.created} created, {result.duplicates} duplicates"
                )
            record.save()
    except IntegrityError:  # the same delivery, processed concurrently
        return StripeWebhook.objects.get(stripe_event_id=event_id)
    return record
