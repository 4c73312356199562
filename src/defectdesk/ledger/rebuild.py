"""Recompute every projection from the ledger."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from django.db import connection, transaction

from defectdesk.accounts.models import Seller
from defectdesk.core.actors import SYSTEM, Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.bulk import is_postgres
from defectdesk.ledger.fold import LedgerEvent, OrderState, fold_order
from defectdesk.ledger.ingest import (
    _as_utc,
    ingest_lock,
    marketplace_refs,
    project_states,
)
from defectdesk.ledger.models import Event
from defectdesk.ledger.projection import MarketplaceRef, pipeline

ORDERS_PER_BATCH = 5000


def orders_replay(
    marketplace_id: int | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """Refold every order (of one marketplace, or all) and project it, in the caller's
    transaction, streaming the ledger; returns the number of orders seen."""
    by_id = {ref.id: ref for ref in marketplace_refs().values()}
    data_col = "e.data::text" if is_postgres() else "e.data"
    where = "WHERE e.marketplace_id = %s " if marketplace_id is not None else ""
    sql = (
        f"SELECT e.marketplace_id, e.order_ref, e.event_id, e.type, e.occurred_at, "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
        f"s.external_id, {data_col} FROM {Event._meta.db_table} e "
        f"JOIN {Seller._meta.db_table} s ON s.id = e.seller_id {where}"
        "ORDER BY e.marketplace_id, e.order_ref"
    )
    orders = 0
    batch: list[tuple[OrderState | None, OrderState, MarketplaceRef]] = []
    key: tuple[int, str] | None = None
    events: list[LedgerEvent] = []

    def flush_order() -> None:
        nonlocal orders
        if key is None:
            return
        market = by_id[key[0]]
        state = fold_order(market.code, key[1], events)
        orders += 1
        if state.is_placed:
            batch.append((None, state, market))

    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, [marketplace_id] if marketplace_id is not None else [])
        while True:
            rows = cursor.fetchmany(10_000)
            if not rows:
                break
            for market_id, ref, event_id, kind, occurred, seller, data in rows:
                if (market_id, ref) != key:
                    flush_order()
                    key, events = (market_id, ref), []
                    if len(batch) >= ORDERS_PER_BATCH:
                        project_states(batch)
                        batch = []
                        if progress:
                            progress(orders)
                events.append(
                    LedgerEvent(
                        event_id,
                        kind,
                        _as_utc(occurred),
                        seller,
                        orjson.loads(data) if isinstance(data, str) else data,
                    )
                )
        flush_order()
        project_states(batch)
    finally:
        cursor.close()
    if progress:
        progress(orders)
    return orders


def ledger_rebuild(progress: Callable[[int], None] | None = None, *, actor: Actor = SYSTEM) -> int:
    """Reset the projectors and refold every order in one transaction; returns orders seen.

    Audited: besides recording who rebuilt, the new audit id changes the data version that
    page caches are keyed by, so nothing computed before the rebuild is shown after it.
    """
    with transaction.atomic():
        ingest_lock()
        for projector in pipeline().projectors:
            projector.reset()
        orders = orders_replay(None, progress)
        audit_record(
            actor=actor,
            action="ledger.rebuild",
            object_type="ledger",
            object_id="all",
            data={"orders": orders},
        )
        return orders
