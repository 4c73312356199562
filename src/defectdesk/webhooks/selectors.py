"""Reads of webhook endpoints and their delivery logs (operators only; checked by callers)."""

from __future__ import annotations

from django.db.models import QuerySet

from defectdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoints_all() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("id")


MAX_ID = 2**63 - 1


def id_valid(pk: int) -> bool:
    """Whether an id from a URL can be a row id at all (a larger one overflows the column)."""
    return 1 <= pk <= MAX_ID


def endpoint_get(pk: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(pk=pk).first() if id_valid(pk) else None


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, with their events."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-id")
    )


def attempts_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookAttempt]:
    """The delivery log: every attempt at every delivery to the endpoint, newest first."""
    return (
        WebhookAttempt.objects.filter(delivery__endpoint=endpoint)
        .select_related("delivery", "delivery__event")
        .order_by("-started_at", "-id")
    )
