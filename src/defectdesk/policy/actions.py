"""Changing a marketplace's policy: validate, store, and recompute what depends on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from defectdesk.accounts.models import Seller
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.bulk import is_postgres
from defectdesk.core.errors import ValidationFailed
from defectdesk.ledger.fold import LedgerEvent, OrderState, fold_order
from defectdesk.ledger.ingest import (
    ingest_lock,
    marketplace_refs,
    project_states,
)
from defectdesk.ledger.models import Event, Marketplace
from defectdesk.ledger.projection import MarketplaceRef, projectors
from defectdesk.policy.models import MarketplacePolicy
from defectdesk.policy.profile import policy_from_profile, profile_complete, profile_errors
from defectdesk.policy.selectors import policy_for

ORDERS_PER_BATCH = 5000


def policy_set(
    *, marketplace: Marketplace, profile: dict[str, Any], actor: Actor
) -> MarketplacePolicy:
    """Store a marketplace's policy (a partial profile is merged onto the default).

    A profile with any problem is refused as a whole (422, each problem naming its field) and
    the old policy stays. When the defect rules change, the marketplace's defects and counters
    are recomputed from the ledger in the same transaction; windows and targets are read at
    query time, so the history reflects them at once.
    """
    if not isinstance(profile, dict):
        raise ValidationFailed("The policy is not valid.", profile_errors(profile))
    complete = profile_complete(profile)
    errors = profile_errors(complete)
    if errors:
        raise ValidationFailed("The policy is not valid; the previous policy is kept.", errors)
    new = policy_from_profile(complete)
    with transaction.atomic():
        ingest_lock()
        old = policy_for(marketplace.id)
        row, created = MarketplacePolicy.objects.select_for_update().get_or_create(
            marketplace=marketplace,
            defaults={"profile": complete, "updated_at": timezone.now()},
        )
        if not created:
            row.profile = complete
            row.version += 1
            row.updated_at = timezone.now()
            row.save(update_fields=["profile", "version", "updated_at"])
        recomputed = old.rules_key() != new.rules_key()
        if recomputed:
            marketplace_replay(marketplace.id)
        audit_record(
            actor=actor,
            action="policy_set",
            object_type="marketplace_policy",
            object_id=marketplace.code,
            from_state=f"v{row.version - 1}" if not created else "",
            to_state=f"v{row.version}",
            note="recomputed defects and metrics" if recomputed else "",
            data={"profile": complete},
        )
    return row


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def marketplace_replay(marketplace_id: int, progress: Callable[[int], None] | None = None) -> int:
    """Reset one marketplace's projections and refold its orders, in the caller's transaction."""
    market: MarketplaceRef = next(
        ref for ref in marketplace_refs().values() if ref.id == marketplace_id
    )
    for projector in projectors():
        reset = getattr(projector, "reset_marketplace", None)
        if reset is not None:
            reset(marketplace_id)
    data_col = "e.data::text" if is_postgres() else "e.data"
    sql = (
        f"SELECT e.order_ref, e.event_id, e.type, e.occurred_at, s.external_id, {data_col} "  # noqa: S608
        f"FROM {Event._meta.db_table} e JOIN {Seller._meta.db_table} s ON s.id = e.seller_id "
        "WHERE e.marketplace_id = %s ORDER BY e.order_ref"
    )
    orders = 0
    batch: list[tuple[OrderState | None, OrderState, MarketplaceRef]] = []
    key: str | None = None
    events: list[LedgerEvent] = []

    def flush_order() -> None:
        nonlocal orders
        if key is None:
            return
        state = fold_order(market.code, key, events)
        orders += 1
        if state.is_placed:
            batch.append((None, state, market))

    with connection.cursor() as cursor:
        cursor.execute(sql, [marketplace_id])
        while True:
            rows = cursor.fetchmany(10_000)
            if not rows:
                break
            for ref, event_id, kind, occurred, seller, data in rows:
                if ref != key:
                    flush_order()
                    key, events = ref, []
                    if len(batch) >= ORDERS_PER_BATCH:
                        project_states(batch)
                        batch = []
                        if progress:
                            progress(orders)
                occurred = _as_utc(occurred)
                events.append(
                    LedgerEvent(
                        event_id,
                        kind,
                        occurred,
                        seller,
                        orjson.loads(data) if isinstance(data, str) else data,
                    )
                )
    flush_order()
    project_states(batch)
    return orders
