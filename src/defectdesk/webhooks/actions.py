"""Operators' changes to webhook endpoints; each writes its audit event in its transaction."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from defectdesk.accounts.roles import Principal
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from defectdesk.webhooks.models import WebhookDelivery, WebhookEndpoint
from defectdesk.webhooks.outbox import webhooks_kick
from defectdesk.webhooks.selectors import id_valid
from defectdesk.webhooks.types import EVENT_TYPES
from defectdesk.webhooks.urlcheck import endpoint_url_errors

# How long the secret before a rotation still signs, so receivers can switch without a gap.
ROTATION_OVERLAP = timedelta(hours=24)
MAX_DESCRIPTION = 200


def _operator_check(principal: Principal | None) -> None:
    if principal is not None and not principal.is_operator:
        raise Forbidden("Only operators (or admin tokens) manage webhook endpoints.")


def _secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _event_types(value: Any) -> tuple[list[str], list[FieldError]]:
    if not isinstance(value, list | tuple) or not value:
        return [], [FieldError("event_types", "choose at least one: " + ", ".join(EVENT_TYPES))]
    chosen = [v for v in value if isinstance(v, str)]
    unknown = [repr(v)[:60] for v in value if not isinstance(v, str) or v not in EVENT_TYPES]
    if unknown:
        return [], [
            FieldError(
                "event_types",
                f"unknown {', '.join(unknown)}; choose among {', '.join(EVENT_TYPES)}",
            )
        ]
    return sorted(set(chosen), key=list(EVENT_TYPES).index), []


def _description(value: Any) -> tuple[str, list[FieldError]]:
    text = value.strip() if isinstance(value, str) else ""
    if "\x00" in text:
        return "", [FieldError("description", "must not contain NUL characters")]
    if len(text) > MAX_DESCRIPTION:
        return "", [FieldError("description", f"is {len(text):,} characters; the limit is 200")]
    return text, []


def _locked(endpoint: WebhookEndpoint | int) -> WebhookEndpoint:
    pk = endpoint.pk if isinstance(endpoint, WebhookEndpoint) else endpoint
    if not id_valid(pk):
        raise NotFound("No such webhook endpoint.")
    found = WebhookEndpoint.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound("No such webhook endpoint.")
    return found


def _audit(actor: Actor, action: str, endpoint: WebhookEndpoint, **kwargs: Any) -> None:
    audit_record(
        actor=actor,
        action=f"webhook.{action}",
        object_type="webhook_endpoint",
        object_id=endpoint.pk,
        **kwargs,
    )


def webhook_endpoint_register(
    *,
    actor: Actor,
    url: Any,
    event_types: Any,
    description: Any = "",
    principal: Principal | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret, shown this once."""
    _operator_check(principal)
    errors = endpoint_url_errors(url)
    types, type_errors = _event_types(event_types)
    text, text_errors = _description(description)
    errors += type_errors + text_errors
    if errors:
        raise ValidationFailed("The webhook endpoint was not registered.", errors)
    assert isinstance(url, str)
    secret = _secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url.strip(),
            description=text,
            event_types=types,
            secret=secret,
            created_at=timezone.now(),
            created_by_label=actor.label[:200],
        )
        _audit(
            actor,
            "register",
            endpoint,
            to_state="active",
            data={"url": endpoint.url, "event_types": types},
        )
    return endpoint, secret


def webhook_endpoint_rotate(
    *, actor: Actor, endpoint: WebhookEndpoint | int, principal: Principal | None = None
) -> tuple[WebhookEndpoint, str]:
    """Give the endpoint a new secret (shown once); the old one also signs for 24 hours."""
    _operator_check(principal)
    now = timezone.now()
    secret = _secret()
    with transaction.atomic():
        locked = _locked(endpoint)
        locked.previous_secret = locked.secret
        locked.previous_secret_until = now + ROTATION_OVERLAP
        locked.secret = secret
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        _audit(
            actor,
            "rotate",
            locked,
            data={"previous_secret_until": locked.previous_secret_until.isoformat()},
        )
    return locked, secret


def webhook_endpoint_disable(
    *, actor: Actor, endpoint: WebhookEndpoint | int, principal: Principal | None = None
) -> WebhookEndpoint:
    """Stop posting to the endpoint; its pending deliveries wait until it is enabled."""
    _operator_check(principal)
    with transaction.atomic():
        locked = _locked(endpoint)
        if not locked.is_active:
            raise Conflict("The webhook endpoint is already disabled.")
        locked.is_active = False
        locked.disabled_at = timezone.now()
        locked.save(update_fields=["is_active", "disabled_at"])
        _audit(actor, "disable", locked, from_state="active", to_state="disabled")
    return locked


def webhook_endpoint_enable(
    *, actor: Actor, endpoint: WebhookEndpoint | int, principal: Principal | None = None
) -> WebhookEndpoint:
    """Post to the endpoint again, pending deliveries first."""
    _operator_check(principal)
    with transaction.atomic():
        locked = _locked(endpoint)
        if locked.is_active:
            raise Conflict("The webhook endpoint is already enabled.")
        locked.is_active = True
        locked.disabled_at = None
        locked.save(update_fields=["is_active", "disabled_at"])
        _audit(actor, "enable", locked, from_state="disabled", to_state="active")
        transaction.on_commit(webhooks_kick)
    return locked


def webhook_delivery_resend(
    *, actor: Actor, delivery: WebhookDelivery | int, principal: Principal | None = None
) -> WebhookDelivery:
    """Post a delivery again now (the same event id, so receivers can tell it is a repeat)."""
    _operator_check(principal)
    pk = delivery.pk if isinstance(delivery, WebhookDelivery) else delivery
    if not id_valid(pk):
        raise NotFound("No such webhook delivery.")
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise NotFound("No such webhook delivery.")
        before = locked.status
        locked.status = WebhookDelivery.Status.PENDING
        locked.next_attempt_at = timezone.now()
        locked.claimed_until = None
        locked.save(update_fields=["status", "next_attempt_at", "claimed_until"])
        audit_record(
            actor=actor,
            action="webhook.resend",
            object_type="webhook_delivery",
            object_id=locked.pk,
            seller_id=locked.event.seller_id,
            from_state=before,
            to_state=locked.status,
            data={"event": locked.event_id, "endpoint": locked.endpoint_id},
        )
        transaction.on_commit(webhooks_kick)
    return locked
