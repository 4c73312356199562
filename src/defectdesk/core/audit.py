"""The audit-event helper every action calls inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from defectdesk.core.actors import Actor
from defectdesk.core.models import AuditEvent
from defectdesk.core.shared import data_changed


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
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    data_changed()
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
    )
