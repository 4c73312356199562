"""Webhook endpoints for admin tokens: register, list, rotate, disable, enable, log, resend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from defectdesk.api.auth import principal
from defectdesk.api.openapi import token_scope
from defectdesk.api.pagination import MAX_PAGE_SIZE, paginate
from defectdesk.api.schemas import error_responses
from defectdesk.appeals.actions import actor_of
from defectdesk.core.errors import Forbidden, NotFound
from defectdesk.webhooks.actions import (
    webhook_delivery_resend,
    webhook_endpoint_disable,
    webhook_endpoint_enable,
    webhook_endpoint_register,
    webhook_endpoint_rotate,
)
from defectdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from defectdesk.webhooks.selectors import deliveries_of, endpoint_get, endpoints_all
from defectdesk.webhooks.types import EVENT_TYPES

router = Router(tags=["webhooks"])
ADMIN_SCOPE = token_scope("admin")

EventType = Literal[
    "defect.opened",
    "defect.removed",
    "appeal.submitted",
    "appeal.info_requested",
    "appeal.decided",
    "health.status_changed",
    "message.sent",
]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]  # nosec B101 # kept in step with the one declaration


class EndpointIn(Schema):
    url: str = Field(
        ...,
        max_length=2000,
        description="http(s) address of the receiver",
        examples=["https://hooks.example.com/defectdesk"],
    )
    event_types: list[EventType] = Field(..., min_length=1, description="the events to post")
    description: str = Field("", max_length=200)


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    created_at: datetime
    disabled_at: datetime | None


class EndpointSecretOut(EndpointOut):
    secret: str = Field(..., description="the signing secret: shown in this answer only")


class AttemptOut(Schema):
    number: int
    started_at: datetime
    outcome: str
    status_code: int | None
    duration_ms: int | None
    error: str


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: list[AttemptOut]
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    count: int
    page: int
    page_size: int


def _operator(request: HttpRequest) -> Any:
    who = principal(request)
    if not who.is_operator:
        raise Forbidden("Webhook endpoints need an admin token or an operator's session.")
    return who


def _endpoint_out(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    out = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
        "created_at": endpoint.created_at,
        "disabled_at": endpoint.disabled_at,
    }
    if secret is not None:
        out["secret"] = secret
    return out


def _found(endpoint_id: int) -> WebhookEndpoint:
    endpoint = endpoint_get(endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def _deliveries(rows: list[WebhookDelivery]) -> list[dict[str, Any]]:
    attempts: dict[int, list[WebhookAttempt]] = {}
    for a in WebhookAttempt.objects.filter(delivery_id__in=[d.pk for d in rows]).order_by("number"):
        attempts.setdefault(a.delivery_id, []).append(a)
    return [
        {
            "id": d.pk,
            "event_id": d.event_id,
            "event_type": d.event.type,
            "status": d.status,
            "attempts": [
                {
                    "number": a.number,
                    "started_at": a.started_at,
                    "outcome": a.outcome,
                    "status_code": a.status_code,
                    "duration_ms": a.duration_ms,
                    "error": a.error,
                }
                for a in attempts.get(d.pk, [])
            ],
            "created_at": d.created_at,
            "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
            "delivered_at": d.delivered_at,
        }
        for d in rows
    ]


@router.get(
    "/webhooks/endpoints",
    response={200: list[EndpointOut], **error_responses(401, 403)},
    summary="List webhook endpoints (admin)",
    operation_id="webhooks_endpoints_list",
    openapi_extra=ADMIN_SCOPE,
)
def endpoints_list(request: HttpRequest) -> Any:
    _operator(request)
    return [_endpoint_out(e) for e in endpoints_all()]


@router.post(
    "/webhooks/endpoints",
    response={201: EndpointSecretOut, **error_responses(400, 401, 403, 422)},
    summary="Register a webhook endpoint (admin); the secret is in this answer only",
    operation_id="webhooks_endpoints_create",
    openapi_extra=ADMIN_SCOPE,
)
def endpoints_create(request: HttpRequest, body: EndpointIn) -> Any:
    who = _operator(request)
    endpoint, secret = webhook_endpoint_register(
        actor=actor_of(who),
        principal=who,
        url=body.url,
        event_types=list(body.event_types),
        description=body.description,
    )
    return Status(201, _endpoint_out(endpoint, secret))


@router.get(
    "/webhooks/endpoints/{endpoint_id}",
    response={200: EndpointOut, **error_responses(401, 403, 404)},
    summary="One webhook endpoint (admin)",
    operation_id="webhooks_endpoints_get",
    openapi_extra=ADMIN_SCOPE,
)
def endpoints_get(request: HttpRequest, endpoint_id: int) -> Any:
    _operator(request)
    return _endpoint_out(_found(endpoint_id))


@router.post(
    "/webhooks/endpoints/{endpoint_id}/rotate",
    response={200: EndpointSecretOut, **error_responses(401, 403, 404)},
    summary="Give an endpoint a new secret (the old one signs 24 h more)",
    operation_id="webhooks_endpoints_rotate",
    openapi_extra=ADMIN_SCOPE,
)
def endpoints_rotate(request: HttpRequest, endpoint_id: int) -> Any:
    who = _operator(request)
    endpoint, secret = webhook_endpoint_rotate(
        actor=actor_of(who), principal=who, endpoint=_found(endpoint_id)
    )
    return _endpoint_out(endpoint, secret)


def _switch_route(verb: str, action: Callable[..., WebhookEndpoint], summary: str) -> None:
    """Register `POST /webhooks/endpoints/{id}/<verb>`: an operator turns an endpoint off or on."""

    def switch(request: HttpRequest, endpoint_id: int) -> Any:
        who = _operator(request)
        return _endpoint_out(
            action(actor=actor_of(who), principal=who, endpoint=_found(endpoint_id))
        )

    router.post(
        f"/webhooks/endpoints/{{endpoint_id}}/{verb}",
        response={200: EndpointOut, **error_responses(401, 403, 404, 409)},
        summary=summary,
        operation_id=f"webhooks_endpoints_{verb}",
        url_name=f"endpoints_{verb}",
        openapi_extra=ADMIN_SCOPE,
    )(switch)


_switch_route("disable", webhook_endpoint_disable, "Stop posting to an endpoint")
_switch_route("enable", webhook_endpoint_enable, "Post to a disabled endpoint again")


@router.get(
    "/webhooks/endpoints/{endpoint_id}/deliveries",
    response={200: DeliveryPage, **error_responses(401, 403, 404, 422)},
    summary="The delivery log of an endpoint, newest first, with every attempt",
    operation_id="webhooks_deliveries_list",
    openapi_extra=ADMIN_SCOPE,
)
def deliveries_list(
    request: HttpRequest,
    endpoint_id: int,
    page: int = Query(1, ge=1, le=1_000_000),  # type: ignore[type-arg]
    page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),  # type: ignore[type-arg]
) -> Any:
    _operator(request)
    rows = deliveries_of(_found(endpoint_id))
    return paginate(rows, page, page_size, _deliveries)


@router.post(
    "/webhooks/deliveries/{delivery_id}/resend",
    response={200: DeliveryOut, **error_responses(401, 403, 404)},
    summary="Post a delivery again now, with the same event id",
    operation_id="webhooks_deliveries_resend",
    openapi_extra=ADMIN_SCOPE,
)
def deliveries_resend(request: HttpRequest, delivery_id: int) -> Any:
    who = _operator(request)
    delivery = webhook_delivery_resend(actor=actor_of(who), principal=who, delivery=delivery_id)
    return _deliveries([delivery])[0]
