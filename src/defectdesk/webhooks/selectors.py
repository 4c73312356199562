"""Reads of webhook endpoints and their delivery logs (operators only; checked by callers)."""

from __future__ import annotations

from django.db.models import QuerySet

from defectdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoints_all() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("id")


def endpoint_get(pk: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(pk=pk).first()


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
