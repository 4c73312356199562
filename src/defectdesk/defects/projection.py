"""The defect projection, kept up to date batch by batch with the orders projection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import ForeignObjectRel

from defectdesk.core.bulk import bulk_upsert, fetch_in
from defectdesk.defects.announce import defects_announce, defects_watch
from defectdesk.defects.models import Defect
from defectdesk.defects.rules import DefectFact, defect_facts, with_appeal
from defectdesk.ledger.fold import OrderState
from defectdesk.ledger.models import Order
from defectdesk.ledger.projection import OrderChange, PendingOrder
from defectdesk.policy.profile import DEFAULT_POLICY, Policy
from defectdesk.policy.selectors import policies_by_marketplace

IN_CHUNK = 2000
COLUMNS = [
    "order_id",
    "seller_id",
    "marketplace_id",
    "kind",
    "source_key",
    "opened_at",
    "status",
    "removed_at",
    "removal_cause",
    "removal_detail",
    "ledger_intervals",
    "source_event_ids",
]
STALE_DETAIL = "no longer supported by the ledger"

ExistingKey = tuple[int, str, str]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def existing_defects(order_ids: Sequence[int]) -> dict[ExistingKey, tuple[int, datetime | None]]:
    """(order, kind, source key) -> (defect id, appeal_removed_at) for these orders."""
    found: dict[ExistingKey, tuple[int, datetime | None]] = {}
    rows = fetch_in(
        f"SELECT id, order_id, kind, source_key, appeal_removed_at FROM "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
        f"{Defect._meta.db_table} WHERE {{in}}",
        "order_id",
        list(order_ids),
    )
    for pk, order_id, kind, key, appeal_at in rows:
        if isinstance(appeal_at, str):
            appeal_at = datetime.fromisoformat(appeal_at)
        if appeal_at is not None and appeal_at.tzinfo is None:
            appeal_at = appeal_at.replace(tzinfo=UTC)
        found[(order_id, kind, key)] = (pk, appeal_at)
    return found


def appeal_cuts(order_ids: Sequence[int]) -> dict[ExistingKey, datetime]:
    """(order, kind, source key) -> when an approved appeal removed it, for these orders."""
    found: dict[ExistingKey, datetime] = {}
    for start in range(0, len(order_ids), IN_CHUNK):
        chunk = order_ids[start : start + IN_CHUNK]
        rows = Defect.objects.filter(
            order_id__in=chunk, appeal_removed_at__isnull=False
        ).values_list("order_id", "kind", "source_key", "appeal_removed_at")
        for order_id, kind, key, appeal_at in rows:
            if appeal_at is not None:
                found[(order_id, kind, key)] = appeal_at
    return found


def facts_with_appeals(
    order_id: int, facts: list[DefectFact], cuts: dict[ExistingKey, datetime]
) -> list[DefectFact]:
    if not cuts:
        return facts
    return [with_appeal(f, cuts.get((order_id, f.kind, f.source_key))) for f in facts]


def defect_row(change: OrderChange, fact: DefectFact) -> list[Any]:
    return [
        change.order_id,
        change.seller_id,
        change.marketplace.id,
        fact.kind,
        fact.source_key,
        fact.opened_at,
        "active" if fact.is_active else "removed",
        fact.removed_at,
        fact.removal_cause,
        fact.removal_detail[:200],
        [[_iso(s), _iso(e)] for s, e in fact.intervals],
        list(fact.source_event_ids),
    ]


def _referenced_clause() -> str:
    """SQL true when another table (an appeal, ...) references the defect row."""
    checks = []
    for rel in Defect._meta.get_fields():
        if not isinstance(rel, ForeignObjectRel) or not (rel.one_to_many or rel.one_to_one):
            continue
        model = rel.related_model
        assert model is not None and not isinstance(model, str)
        column = rel.field.column
        checks.append(
            f"EXISTS (SELECT 1 FROM {model._meta.db_table} r "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            f"WHERE r.{column} = {Defect._meta.db_table}.id)"
        )
    return " OR ".join(checks) or "FALSE"


def stale_defects_retire(ids: Sequence[int]) -> None:
    """Defects the ledger no longer gives: delete them, unless something references them
    (an appeal): those are kept, marked removed "no longer supported by the ledger"."""
    table = Defect._meta.db_table
    referenced = _referenced_clause()
    for start in range(0, len(ids), IN_CHUNK):
        chunk = list(ids[start : start + IN_CHUNK])
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cur:
            cur.execute(
                f"DELETE FROM {table} WHERE id IN ({marks}) "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                f"AND appeal_removed_at IS NULL AND NOT ({referenced})",
                chunk,
            )
            cur.execute(
                f"UPDATE {table} SET status = 'removed', "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                "removed_at = COALESCE(appeal_removed_at, opened_at), "
                "removal_cause = CASE WHEN appeal_removed_at IS NULL THEN 'rule' "
                "ELSE 'appeal' END, removal_detail = %s, ledger_intervals = %s "
                f"WHERE id IN ({marks})",
                [STALE_DETAIL, "[]", *chunk],
            )


def problem_since(facts: Sequence[DefectFact]) -> datetime | None:
    """When the earliest of these active defects opened; None when none is active."""
    return min((f.opened_at for f in facts if f.is_active), default=None)


def orders_mark_problems(marks: Sequence[tuple[int, datetime | None]]) -> None:
    """Set the orders' `problem_since` (order id, value); rows already right are not written."""
    if not marks:
        return
    table = Order._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor != "postgresql":
            adapt = connection.ops.adapt_datetimefield_value
            cur.executemany(
                f"UPDATE {table} SET problem_since = %s WHERE id = %s "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                "AND problem_since IS NOT %s",
                [(adapt(at), pk, adapt(at)) for pk, at in marks],
            )
            return
        for start in range(0, len(marks), IN_CHUNK):
            chunk = marks[start : start + IN_CHUNK]
            cur.execute(
                f"UPDATE {table} o SET problem_since = v.at "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) "
                "WHERE o.id = v.id AND o.problem_since IS DISTINCT FROM v.at",
                [[pk for pk, _ in chunk], [at for _, at in chunk]],
            )


def _facts_around(
    order_id: int | None,
    policy: Policy,
    before: OrderState | None,
    after: OrderState,
    cuts: dict[ExistingKey, datetime],
) -> tuple[list[DefectFact], list[DefectFact] | None]:
    """An order's facts after a batch, and before it when it was placed before (appeal cuts
    applied; an order without a row yet has none)."""
    oid = order_id if order_id is not None else -1
    facts = facts_with_appeals(oid, defect_facts(after, policy), cuts)
    old = None
    if before is not None and before.is_placed:
        old = facts_with_appeals(oid, defect_facts(before, policy), cuts)
    return facts, old


OrderKey = tuple[int, str]  # marketplace id, order ref


@dataclass(frozen=True, slots=True)
class BatchFacts:
    """What the projections read about a batch's orders, worked out once per batch."""

    policies: dict[int, Policy]  # by marketplace id (those without a stored policy: none)
    # The stored defects of the batch's orders: (order, kind, source key) -> (id, appeal cut).
    existing: dict[ExistingKey, tuple[int, datetime | None]]
    # Each order's defects after the batch, and before it when it was placed before.
    defects: dict[OrderKey, tuple[list[DefectFact], list[DefectFact] | None]]

    def policy(self, marketplace_id: int) -> Policy:
        return self.policies.get(marketplace_id, DEFAULT_POLICY)

    def of(self, change: OrderChange) -> tuple[list[DefectFact], list[DefectFact] | None]:
        return self.defects[(change.marketplace.id, change.after.order_ref)]


def batch_facts(pending: Sequence[PendingOrder]) -> BatchFacts:
    """The policies, stored defects and defect facts (appeal cuts applied) of a batch's orders."""
    policies = policies_by_marketplace()
    existing = existing_defects([p.order_id for p in pending if p.order_id is not None])
    cuts = {k: at for k, (_, at) in existing.items() if at is not None}
    defects = {
        (p.marketplace.id, p.after.order_ref): _facts_around(
            p.order_id, policies.get(p.marketplace.id, DEFAULT_POLICY), p.before, p.after, cuts
        )
        for p in pending
    }
    return BatchFacts(policies, existing, defects)


class DefectProjector:
    """Upserts defects by (order, kind, source key) so ids stay stable across rebuilds.

    It owns the orders' `problem_since` column: its values come from the batch's facts and
    are written with the orders' rows (one write per order and batch)."""

    name = "defects"
    order_columns: tuple[str, ...] = ("problem_since",)

    def order_values(
        self, pending: Sequence[PendingOrder], facts: BatchFacts
    ) -> list[tuple[Any, ...]]:
        return [
            (problem_since(facts.defects[(p.marketplace.id, p.after.order_ref)][0]),)
            for p in pending
        ]

    def apply(self, changes: Sequence[OrderChange], facts: BatchFacts) -> None:
        existing = facts.existing
        rows: list[list[Any]] = []
        seen: set[ExistingKey] = set()
        for change in changes:
            after, before = facts.of(change)
            seen.update((change.order_id, f.kind, f.source_key) for f in after)
            if (
                before is not None
                and before == after
                and all((change.order_id, f.kind, f.source_key) in existing for f in after)
            ):
                continue  # its rows already say this
            rows.extend(defect_row(change, fact) for fact in after)
        stale = [pk for key, (pk, _) in existing.items() if key not in seen]
        touched = sorted({row[0] for row in rows} | {key[0] for key in existing if key not in seen})
        watched = defects_watch(touched)
        bulk_upsert(Defect._meta.db_table, COLUMNS, rows, ["order_id", "kind", "source_key"])
        if stale:
            stale_defects_retire(stale)
        if watched is not None:
            defects_announce(watched, touched)

    def retract(self, changes: Sequence[OrderChange], facts: BatchFacts) -> None:
        """Nothing to take back: an appeal's action writes the defect's row itself."""

    def reset(self) -> None:
        """Nothing to delete: rows are kept (appeals reference them) and refreshed on replay."""

    def reset_marketplace(self, marketplace_id: int) -> None:
        """As reset(), for one marketplace."""


defect_projector = DefectProjector()
