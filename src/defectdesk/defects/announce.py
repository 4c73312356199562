"""Announce defects that opened or were removed to webhook endpoints (`defect.*` events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from defectdesk.core.timeutil import iso_text
from defectdesk.defects.models import Defect
from defectdesk.webhooks.outbox import Announcement, subscribed_types, webhook_events_emit

IN_CHUNK = 2000
DEFECT_TYPES = {"defect.opened", "defect.removed"}
FIELDS = (
    "id",
    "order_id",
    "kind",
    "source_key",
    "status",
    "opened_at",
    "removed_at",
    "removal_cause",
    "seller_id",
    "seller__external_id",
    "marketplace__code",
    "order__order_ref",
)

Key = tuple[int, str, str]


def defect_data(row: dict[str, Any]) -> dict[str, Any]:
    """The `data` of a defect.* event."""
    return {
        "defect": row["id"],
        "kind": row["kind"],
        "status": row["status"],
        "seller": row["seller__external_id"],
        "marketplace": row["marketplace__code"],
        "order": row["order__order_ref"],
        "opened_at": iso_text(row["opened_at"]),
        "removed_at": iso_text(row["removed_at"]),
        "removal_cause": row["removal_cause"] or None,
    }


def defect_rows(order_ids: Sequence[int]) -> dict[Key, dict[str, Any]]:
    """The stored defects of these orders by (order, kind, source key)."""
    found: dict[Key, dict[str, Any]] = {}
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), IN_CHUNK):
        for row in Defect.objects.filter(order_id__in=ids[start : start + IN_CHUNK]).values(
            *FIELDS
        ):
            found[(row["order_id"], row["kind"], row["source_key"])] = row
    return found


def defects_watch(order_ids: Sequence[int]) -> dict[Key, dict[str, Any]] | None:
    """Before a batch changes these orders' defects: their rows, or None if nobody listens."""
    if not order_ids or not (subscribed_types() & DEFECT_TYPES):
        return None
    return defect_rows(order_ids)


def defects_announce(before: dict[Key, dict[str, Any]], order_ids: Sequence[int]) -> int:
    """Announce every defect of these orders that became active or stopped being active."""
    after = defect_rows(order_ids)
    items = []
    for key, row in after.items():
        old = before.get(key)
        was_active = old is not None and old["status"] == Defect.Status.ACTIVE
        if row["status"] == Defect.Status.ACTIVE and not was_active:
            items.append(Announcement("defect.opened", defect_data(row), row["seller_id"]))
        elif row["status"] != Defect.Status.ACTIVE and was_active:
            items.append(Announcement("defect.removed", defect_data(row), row["seller_id"]))
    for key, old in before.items():
        if key not in after and old["status"] == Defect.Status.ACTIVE:
            gone = {**old, "status": Defect.Status.REMOVED, "removal_cause": "rule"}
            items.append(Announcement("defect.removed", defect_data(gone), old["seller_id"]))
    return webhook_events_emit(items) if items else 0
