"""The audit-event helper every action calls inside its transaction."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone

from defectdesk.core.actors import Actor
from defectdesk.core.datacache import data_changed
from defectdesk.core.models import AuditEvent

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# The id of the request being served; "" outside a request (jobs, commands).
_request_id: ContextVar[str] = ContextVar("request_id", default="")


def request_id_from(header: str | None) -> str:
    """The sent request id when it is 1 to 64 safe characters, else a new uuid4 hex."""
    if header and _REQUEST_ID_RE.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being served, or "" outside a request."""
    return _request_id.get()


def set_request_id(value: str) -> Any:
    """Make `value` the current request id; returns the token that `reset_request_id` takes."""
    return _request_id.set(value)


def reset_request_id(token: Any) -> None:
    """Restore the request id from before `set_request_id`."""
    _request_id.reset(token)


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    seller_id: int | None = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event; must be called inside the action's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the action's transaction")
    user = actor.signed_in
    # Every audited change may change what pages show: the seller's, or (no seller) everyone's.
    data_changed([seller_id])
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor_id=user.pk if user is not None else None,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        seller_id=seller_id,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
        request_id=current_request_id(),
    )
