"""Operator pages for webhooks out: endpoints, their delivery log, rotate, disable, resend.

Thin views: every change goes through defectdesk.webhooks.actions, which writes the audit event.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from defectdesk.appeals.actions import actor_of
from defectdesk.console.access import console_principal, operator_page
from defectdesk.console.access import see_other as _see_other
from defectdesk.console.forms import WebhookEndpointForm
from defectdesk.console.posts import form_post
from defectdesk.core.errors import DomainError, NotFound
from defectdesk.web.forms import PageNumberForm
from defectdesk.webhooks.actions import (
    webhook_delivery_resend,
    webhook_endpoint_disable,
    webhook_endpoint_enable,
    webhook_endpoint_register,
    webhook_endpoint_rotate,
)
from defectdesk.webhooks.models import WebhookDelivery, WebhookEndpoint
from defectdesk.webhooks.selectors import (
    attempts_of,
    deliveries_of,
    endpoint_get,
    endpoints_all,
    id_valid,
)
from defectdesk.webhooks.types import EVENT_TYPES

LOG_PAGE_SIZE = 50


def _nav() -> dict[str, str]:
    return {"section": "operator", "tab": "webhooks", "active": "operator"}


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = endpoint_get(endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # a secret may be on the page
    return response


@operator_page
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    """The endpoints, and the form that registers one (its secret is shown once, here)."""
    blank: dict[str, Any] = {"event_types": list(EVENT_TYPES)}
    posted = WebhookEndpointForm(request.POST if request.method == "POST" else None)
    form = blank
    if posted.is_bound:
        form = {
            "url": str(posted.data.get("url", "")),
            "description": str(posted.data.get("description", "")),
            "event_types": posted.value("event_types", []),
        }

    def register(data: dict[str, Any]) -> tuple[WebhookEndpoint, str]:
        principal = console_principal(request)
        return webhook_endpoint_register(
            actor=actor_of(principal),
            principal=principal,
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
        )

    outcome = form_post(request, posted, "The endpoint was not registered.", register)
    context = {
        "endpoints": endpoints_all(),
        "form": blank if outcome.done is not None else form,
        "errors": outcome.errors,
        "created": outcome.done,
        "event_types": list(EVENT_TYPES.items()),
        **_nav(),
    }
    return _no_store(render(request, "console/webhooks.html", context, status=outcome.status))


@operator_page
@require_http_methods(["GET"])
def webhook_endpoint(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """One endpoint: its settings, its deliveries and the log of every attempt."""
    return _endpoint_page(request, _endpoint(endpoint_id))


def _endpoint_page(
    request: HttpRequest, endpoint: WebhookEndpoint, secret: str | None = None
) -> HttpResponse:
    number = PageNumberForm(request.GET).page_number
    deliveries = Paginator(deliveries_of(endpoint), LOG_PAGE_SIZE).get_page(number)
    attempts: dict[int, list[Any]] = {}
    for attempt in attempts_of(endpoint).filter(
        delivery_id__in=[d.pk for d in deliveries.object_list]
    ):
        attempts.setdefault(attempt.delivery_id, []).append(attempt)
    rows = [
        (d, sorted(attempts.get(d.pk, []), key=lambda a: a.number)) for d in deliveries.object_list
    ]
    context = {
        "endpoint": endpoint,
        "page": deliveries,
        "rows": rows,
        "secret": secret,
        **_nav(),
    }
    return _no_store(render(request, "console/webhook.html", context))


@operator_page
@require_POST
def webhook_change_view(request: HttpRequest, endpoint_id: int, what: str) -> HttpResponse:
    """Rotate an endpoint's secret, disable or enable it (`what`, given by the route)."""
    principal = console_principal(request)
    actor = actor_of(principal)
    try:
        if what == "rotate":
            endpoint, secret = webhook_endpoint_rotate(
                actor=actor, principal=principal, endpoint=endpoint_id
            )
            # Shown once, in this answer (not after a redirect: it is kept nowhere to show).
            return _endpoint_page(request, endpoint, secret)
        elif what == "disable":
            webhook_endpoint_disable(actor=actor, principal=principal, endpoint=endpoint_id)
            messages.success(request, "Endpoint disabled: nothing is posted to it until enabled.")
        else:
            webhook_endpoint_enable(actor=actor, principal=principal, endpoint=endpoint_id)
            messages.success(request, "Endpoint enabled: pending deliveries are posted now.")
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except DomainError as exc:
        messages.error(request, exc.detail)
    return _see_other(reverse("operator_webhook", args=[endpoint_id]))


@operator_page
@require_POST
def webhook_resend_view(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    if not (
        id_valid(delivery_id)
        and id_valid(endpoint_id)
        and WebhookDelivery.objects.filter(pk=delivery_id, endpoint_id=endpoint_id).exists()
    ):
        raise Http404("No such delivery.")
    principal = console_principal(request)
    webhook_delivery_resend(actor=actor_of(principal), principal=principal, delivery=delivery_id)
    messages.success(request, "The event is posted again now, with the same id.")
    return _see_other(reverse("operator_webhook", args=[endpoint_id]))
