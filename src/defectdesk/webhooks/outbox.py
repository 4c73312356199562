"""Webhook events written in the transaction of the change they announce."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from defectdesk.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from defectdesk.webhooks.types import EVENT_TYPES

log = logging.getLogger(__name__)


class Announcement(NamedTuple):
    """One event to post: its type, its `data` (JSON-ready) and the seller it concerns."""

    type: str
    data: dict[str, Any]
    seller_id: int | None = None


def subscribed_types() -> set[str]:
    """The event types some active endpoint wants (one query; empty when there are none)."""
    wanted: set[str] = set()
    for types in WebhookEndpoint.objects.filter(is_active=True).values_list(
        "event_types", flat=True
    ):
        wanted.update(types or [])
    return wanted


def webhook_events_emit(announcements: Iterable[Announcement]) -> int:
    """Store each announcement and a delivery per subscribed endpoint; delivered after commit.

    Must run inside the action's transaction: the rows commit or roll back with the change.
    Returns how many deliveries were queued.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("webhook_events_emit must run inside the action's transaction")
    items = list(announcements)
    unknown = {a.type for a in items} - set(EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown webhook event types: {', '.join(sorted(unknown))}")
    if not items:
        return 0
    endpoints = list(
        WebhookEndpoint.objects.filter(is_active=True).values_list("id", "event_types")
    )
    if not endpoints:
        return 0
    now = timezone.now()
    events: list[WebhookEvent] = []
    deliveries: list[WebhookDelivery] = []
    for item in items:
        targets = [pk for pk, types in endpoints if item.type in (types or [])]
        if not targets:
            continue
        event = WebhookEvent(
            id=f"evt_{uuid.uuid4().hex}",
            type=item.type,
            created_at=now,
            data=item.data,
            seller_id=item.seller_id,
        )
        events.append(event)
        deliveries.extend(
            WebhookDelivery(event=event, endpoint_id=pk, created_at=now, next_attempt_at=now)
            for pk in targets
        )
    if not deliveries:
        return 0
    WebhookEvent.objects.bulk_create(events)
    WebhookDelivery.objects.bulk_create(deliveries)
    transaction.on_commit(webhooks_kick)
    return len(deliveries)


def webhook_emit(type_: str, data: dict[str, Any], *, seller_id: int | None = None) -> int:
    """Announce one event (see `webhook_events_emit`)."""
    return webhook_events_emit([Announcement(type_, data, seller_id)])


def webhooks_kick(run_after: Any = None) -> None:
    """Ask a worker to deliver now (or at `run_after`); the periodic job is the backstop."""
    from defectdesk.webhooks.jobs import webhooks_deliver_job

    try:
        task = webhooks_deliver_job.using(run_after=run_after) if run_after else None
        (task or webhooks_deliver_job).enqueue()
    except Exception:  # the rows are durable; the periodic job delivers them anyway
        log.warning("could not enqueue webhook delivery", exc_info=True)
