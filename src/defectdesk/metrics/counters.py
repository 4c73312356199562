"""The per-seller daily counters: maintained on ingestion, read for health and history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connection

from defectdesk.core.bulk import bulk_insert, is_postgres, temp_table_empty
from defectdesk.defects.projection import BatchFacts
from defectdesk.defects.rules import DefectFact
from defectdesk.ledger.fold import OrderState
from defectdesk.ledger.projection import MarketplaceRef, OrderChange, PendingOrder
from defectdesk.metrics.core import (
    Contribution,
    MessageFacts,
    OrderFacts,
    membership_deltas,
    message_facts,
    order_facts,
    order_memberships,
)
from defectdesk.metrics.models import DailyCounter
from defectdesk.policy.profile import Policy

TABLE = DailyCounter._meta.db_table
COLUMNS = ["seller_id", "marketplace_id", "metric", "part", "key_day", "change_day", "delta"]
CONFLICT = "seller_id, marketplace_id, metric, key_day, change_day, part"
CounterKey = tuple[int, int, int, int, int, int]  # seller, marketplace, metric, part, key, change


MetricInputs = tuple[OrderFacts, tuple[tuple[str, tuple[Any, ...]], ...], tuple[MessageFacts, ...]]


def metric_inputs(state: OrderState, facts: Sequence[DefectFact]) -> MetricInputs:
    """All that an order's memberships depend on (equal inputs give equal memberships)."""
    return (
        order_facts(state),
        tuple((f.kind, f.intervals) for f in facts),
        tuple(message_facts(state)),
    )


def inputs_deltas(
    inputs: MetricInputs,
    market: MarketplaceRef,
    policy: Policy,
    sign: int,
    into: dict[Contribution, int],
    static: bool = True,
) -> None:
    """Add (sign = 1) or take away (sign = -1) one order's contributions."""
    order, kinds, messages = inputs
    facts = [
        DefectFact(kind, "", intervals[0][0], intervals) for kind, intervals in kinds if intervals
    ]
    memberships = order_memberships(order, facts, messages, market.timezone, policy, static=static)
    membership_deltas(memberships, sign, into)


def counters_add(deltas: dict[CounterKey, int]) -> None:
    """Add deltas to the counters in one set-based statement (rows that sum to 0 are skipped)."""
    rows = [
        (seller, market, metric, part, date.fromordinal(key), date.fromordinal(change), delta)
        for (seller, market, metric, part, key, change), delta in deltas.items()
        if delta
    ]
    if not rows:
        return
    cols = ", ".join(COLUMNS)
    if is_postgres():
        tmp = "tmp_metrics_counter_delta"
        temp_table_empty(tmp, TABLE, cols)
        bulk_insert(tmp, COLUMNS, rows, prepared=True)
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {TABLE} AS c ({cols}) SELECT {cols} FROM {tmp} "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                f"ON CONFLICT ({CONFLICT}) DO UPDATE SET delta = c.delta + EXCLUDED.delta"
            )
        return
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {TABLE} ({cols}) VALUES (%s, %s, %s, %s, %s, %s, %s) "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            f"ON CONFLICT ({CONFLICT}) DO UPDATE SET delta = {TABLE}.delta + excluded.delta",
            [(s, m, me, p, k.isoformat(), c.isoformat(), d) for s, m, me, p, k, c, d in rows],
        )


def changes_deltas(changes: Sequence[OrderChange], facts: BatchFacts) -> dict[CounterKey, int]:
    """The counter deltas of a batch: each order's new contributions minus its old ones."""
    out: dict[CounterKey, int] = {}
    for change in changes:
        market = change.marketplace
        policy = facts.policy(market.id)
        after_facts, before_facts = facts.of(change)
        new = metric_inputs(change.after, after_facts)
        before = change.before
        local: dict[Contribution, int] = {}
        if before is None or not before.is_placed or before_facts is None:
            inputs_deltas(new, market, policy, 1, local)
        else:
            old = metric_inputs(before, before_facts)
            if old == new:
                continue  # nothing the metrics read has changed
            # An order counted before keeps its static parts: only the rest can move.
            inputs_deltas(old, market, policy, -1, local, static=False)
            inputs_deltas(new, market, policy, 1, local, static=False)
        for (metric, part, key, day), delta in local.items():
            if delta:
                ck = (change.seller_id, market.id, metric, part, key, day)
                out[ck] = out.get(ck, 0) + delta
    return out


class CounterProjector:
    name = "metrics"
    order_columns: tuple[str, ...] = ()

    def order_values(
        self, pending: Sequence[PendingOrder], facts: BatchFacts
    ) -> list[tuple[Any, ...]]:
        return [() for _ in pending]

    def apply(self, changes: Sequence[OrderChange], facts: BatchFacts) -> None:
        counters_add(changes_deltas(changes, facts))

    def retract(self, changes: Sequence[OrderChange], facts: BatchFacts) -> None:
        """Take back the orders' current contributions (before an appeal changes a defect)."""
        deltas = changes_deltas(changes, facts)
        counters_add({k: -v for k, v in deltas.items()})

    def reset(self) -> None:
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {TABLE}")  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters

    def reset_marketplace(self, marketplace_id: int) -> None:
        with connection.cursor() as cur:
            cur.execute(
                f"DELETE FROM {TABLE} WHERE marketplace_id = %s",  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                [marketplace_id],
            )


counter_projector = CounterProjector()
