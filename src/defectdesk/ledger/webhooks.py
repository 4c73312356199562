"""The action behind POST /webhooks/stripe, and the disputes that wait for their order.

A dispute event updates the dispute's row (Stripe's raw status, the latest event wins) and then
settles it against its order: applied as chargeback events, kept as an inquiry, kept waiting
for an order that has not arrived, or refused (it names another seller's order, or Stripe
opened it before the order was placed). Deliveries are serialised by a lock, so repeats and
concurrent copies apply once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from defectdesk.ledger.ingest import Candidate, events_ingest, ingest_lock
from defectdesk.ledger.models import Order, StripeDispute, StripeWebhook
from defectdesk.ledger.stripe import (
    INQUIRY_STATUSES,
    Dispute,
    NotADispute,
    chargeback_events,
    dispute_of,
    status_is_newer,
)


def _when(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _dispute_store(d: Dispute, now: datetime) -> StripeDispute:
    """Create or update the dispute's row; its status only moves to a later event's."""
    row = StripeDispute.objects.select_for_update().filter(dispute_id=d.dispute_id).first()
    escalated = d.status not in INQUIRY_STATUSES
    if row is None:
        return StripeDispute(
            dispute_id=d.dispute_id,
            stripe_status=d.status,
            status_at=d.event_created,
            escalated=escalated,
            state=StripeDispute.State.WAITING,
            charge=d.charge,
            payment_intent=d.payment_intent,
            meta_marketplace=d.marketplace,
            meta_order=d.order,
            meta_seller=d.seller,
            reason=d.reason,
            amount=d.amount,
            currency=d.currency,
            created=_when(d.created),
            first_seen_at=now,
            updated_at=now,
        )
    row.escalated = row.escalated or escalated
    if status_is_newer(d.status, d.event_created, row.stripe_status, row.status_at):
        row.stripe_status, row.status_at = d.status, d.event_created
        row.reason, row.amount, row.currency = d.reason, d.amount, d.currency
    # What identifies the order only grows: a later event may name what an earlier lacked.
    row.charge = row.charge or d.charge
    row.payment_intent = row.payment_intent or d.payment_intent
    row.meta_marketplace = row.meta_marketplace or d.marketplace
    row.meta_order = row.meta_order or d.order
    row.meta_seller = row.meta_seller or d.seller
    row.updated_at = now
    return row


@dataclass(frozen=True, slots=True)
class Settled:
    state: str
    detail: str
    order: Order | None


def _orders_for(row: StripeDispute) -> tuple[Order | None, Order | None]:
    """(the order whose payment_ref is the dispute's charge or intent, the metadata's order)."""
    refs = [r for r in (row.charge, row.payment_intent) if r]
    by_ref = (
        Order.objects.select_related("marketplace", "seller")
        .filter(payment_ref__in=refs)
        .order_by("id")
        .first()
        if refs
        else None
    )
    by_meta = None
    if row.meta_marketplace and row.meta_order:
        by_meta = (
            Order.objects.select_related("marketplace", "seller")
            .filter(marketplace__code=row.meta_marketplace, order_ref=row.meta_order)
            .first()
        )
    return by_ref, by_meta


def _settle(row: StripeDispute) -> Settled:
    """Decide what the dispute means now, and write its chargeback events if it applies."""
    by_ref, by_meta = _orders_for(row)
    order = by_ref or by_meta
    if order is None:
        refs = " or ".join(r for r in (row.charge, row.payment_intent) if r) or "-"
        named = f"{row.meta_marketplace}/{row.meta_order}" if row.meta_order else "no order"
        return Settled(
            StripeDispute.State.WAITING,
            f"no order has payment_ref {refs} and the metadata names {named}; "
            "it is applied when the order arrives",
            None,
        )
    sellers = {o.seller.external_id for o in (by_ref, by_meta) if o is not None}
    if row.meta_seller:
        sellers.add(row.meta_seller)
    if len(sellers) > 1 or (by_ref and by_meta and by_ref.pk != by_meta.pk):
        return Settled(
            StripeDispute.State.REFUSED,
            "the dispute's metadata names an order or seller other than the one its payment "
            f"belongs to ({', '.join(sorted(sellers))})",
            None,
        )
    if row.created < order.placed_at:
        return Settled(
            StripeDispute.State.REFUSED,
            f"Stripe opened the dispute on {row.created:%Y-%m-%d %H:%M} UTC, before the order "
            f"{order.order_ref} was placed ({order.placed_at:%Y-%m-%d %H:%M} UTC)",
            order,
        )
    if not row.escalated:
        return Settled(
            StripeDispute.State.INQUIRY,
            f"an inquiry ({row.stripe_status}): no chargeback unless it becomes a dispute",
            order,
        )
    events = chargeback_events(
        dispute_id=row.dispute_id,
        reason=row.reason,
        amount=row.amount,
        created=int(row.created.timestamp()),
        status=row.stripe_status,
        status_at=row.status_at,
        marketplace=order.marketplace.code,
        order=order.order_ref,
        seller=order.seller.external_id,
    )
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    # The filing stands as first recorded: a later event that changed the dispute's reason or
    # amount does not file it again (its filing is rejected as a reused id, and that is fine).
    rejected = [r for r in result.rejected if not (r.event_id or "").endswith(":filed")]
    if rejected:
        problems = "; ".join(
            f"{r.event_id}: {e.field}: {e.message}" for r in rejected for e in r.errors
        )
        return Settled(StripeDispute.State.REFUSED, problems[:500], order)
    return Settled(
        StripeDispute.State.APPLIED,
        f"chargeback on {order.marketplace.code}/{order.order_ref} ({row.stripe_status})",
        order,
    )


WEBHOOK_STATUS = {
    StripeDispute.State.APPLIED: StripeWebhook.Status.APPLIED,
    StripeDispute.State.WAITING: StripeWebhook.Status.UNMATCHED,
    StripeDispute.State.INQUIRY: StripeWebhook.Status.INQUIRY,
    StripeDispute.State.REFUSED: StripeWebhook.Status.REFUSED,
}


def _settle_store(row: StripeDispute) -> Settled:
    settled = _settle(row)
    row.state, row.detail = settled.state, settled.detail[:500]
    row.order = settled.order
    row.save()
    return settled


def stripe_webhook_receive(event: dict[str, Any]) -> StripeWebhook:
    """Apply one verified Stripe event; a repeat of a known event id changes nothing."""
    event_id = str(event.get("id", ""))[:128]
    now = timezone.now()
    with transaction.atomic():
        # Every seller's ingestion lock, in the order all writers take them: one Stripe delivery
        # at a time (they are few), and no deadlock with a batch placing the dispute's order.
        ingest_lock(None)
        known = StripeWebhook.objects.filter(stripe_event_id=event_id).first()
        if known is not None:
            return known
        record = StripeWebhook(
            stripe_event_id=event_id,
            type=str(event.get("type", ""))[:80],
            payload=event,
            received_at=now,
        )
        try:
            dispute = dispute_of(event)
        except NotADispute as exc:
            record.status = StripeWebhook.Status.IGNORED
            record.detail = str(exc)
            record.save()
            return record
        row = _dispute_store(dispute, now)
        settled = _settle_store(row)
        record.dispute_id = dispute.dispute_id
        record.order = settled.order
        record.status = WEBHOOK_STATUS[StripeDispute.State(settled.state)]
        record.detail = settled.detail
        record.save()
    return record


def stripe_disputes_for_placed(placed: Sequence[tuple[str, str, str | None]]) -> int:
    """Settle the waiting disputes of orders just placed: (marketplace, order, payment_ref).

    Runs inside the ingesting batch's transaction, after its projections, so the chargebacks
    land with the order. Returns how many disputes were settled.
    """
    if not placed:
        return 0
    # Waiting disputes are few (one query, usually empty); the batch's orders may be many.
    waiting = list(StripeDispute.objects.filter(state=StripeDispute.State.WAITING).order_by("id"))
    if not waiting:
        return 0
    refs = {ref for _, _, ref in placed if ref}
    keys = {(market, order) for market, order, _ in placed}
    due = [
        row.pk
        for row in waiting
        if (row.charge and row.charge in refs)
        or (row.payment_intent and row.payment_intent in refs)
        or (row.meta_marketplace, row.meta_order) in keys
    ]
    if not due:
        return 0
    # The batch holds its sellers' ingestion locks; the rows' locks settle a race with a
    # Stripe delivery of the same dispute (which takes every seller's lock first).
    rows = StripeDispute.objects.select_for_update().filter(
        pk__in=due, state=StripeDispute.State.WAITING
    )
    settled = 0
    for row in rows.order_by("id"):
        _settle_store(row)
        settled += 1
    return settled
