"""The defect projection, kept up to date batch by batch with the orders projection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection

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
    for rel in Defect._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one):
            continue
        model = rel.related_model
        assert not isinstance(model, str)
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


class DefectProjector:
    """Upserts defects by (order, kind, source key) so ids stay stable across rebuilds.

    It owns the orders' `problem_since` column: during ingestion `prepare` works out each
    order's defects before the orders' rows are written, so the column is written with the
    row (one write per order and batch); `apply` then writes the defects. Called without
    `prepare` (an appeal's removal), `apply` works them out and marks the orders itself."""

    name = "defects"
    order_columns = ("problem_since",)

    def __init__(self) -> None:
        # What the last batch gave, for projectors later in the same batch (the counters):
        # the changes object, each order's facts (appeals applied) and the appeal cuts.
        self.last_changes: Sequence[OrderChange] | None = None
        self.last_facts: dict[int, list[DefectFact]] = {}
        self.last_before_facts: dict[int, list[DefectFact]] = {}
        self.last_cuts: dict[ExistingKey, datetime] = {}
        # From `prepare` to the `apply` of the same batch, by (marketplace id, order ref):
        # the order's facts after and before the batch, and the stored defects of the orders.
        self._prepared: dict[tuple[int, str], tuple[list[DefectFact], list[DefectFact] | None]]
        self._prepared = {}
        self._prepared_existing: dict[ExistingKey, tuple[int, datetime | None]] = {}

    def prepare(self, pending: Sequence[PendingOrder]) -> list[tuple[Any, ...]]:
        policies = policies_by_marketplace()
        existing = existing_defects([p.order_id for p in pending if p.order_id is not None])
        cuts = {k: at for k, (_, at) in existing.items() if at is not None}
        self._prepared_existing = existing
        self._prepared = {}
        values = []
        for p in pending:
            policy: Policy = policies.get(p.marketplace.id, DEFAULT_POLICY)
            facts, old = _facts_around(p.order_id, policy, p.before, p.after, cuts)
            self._prepared[(p.marketplace.id, p.after.order_ref)] = (facts, old)
            values.append((problem_since(facts),))
        return values

    def apply(self, changes: Sequence[OrderChange]) -> None:
        prepared, self._prepared = self._prepared, {}
        # Unless `prepare` ran for exactly these orders (their rows then already hold
        # problem_since), work out their facts here and mark the orders afterwards.
        mark = not (
            prepared and all((c.marketplace.id, c.after.order_ref) in prepared for c in changes)
        )
        existing = (
            existing_defects([c.order_id for c in changes]) if mark else self._prepared_existing
        )
        self._prepared_existing = {}
        cuts = {k: at for k, (_, at) in existing.items() if at is not None}
        if mark:
            policies = policies_by_marketplace()
            computed = [
                _facts_around(
                    c.order_id,
                    policies.get(c.marketplace.id, DEFAULT_POLICY),
                    c.before,
                    c.after,
                    cuts,
                )
                for c in changes
            ]
        else:
            computed = [prepared[(c.marketplace.id, c.after.order_ref)] for c in changes]
        rows: list[list[Any]] = []
        seen: set[ExistingKey] = set()
        facts_by_order: dict[int, list[DefectFact]] = {}
        before_by_order: dict[int, list[DefectFact]] = {}
        for change, (facts, old) in zip(changes, computed, strict=True):
            facts_by_order[change.order_id] = facts
            seen.update((change.order_id, f.kind, f.source_key) for f in facts)
            if old is not None:
                before_by_order[change.order_id] = old
                if old == facts and all(
                    (change.order_id, f.kind, f.source_key) in existing for f in facts
                ):
                    continue  # its rows already say this
            rows.extend(defect_row(change, fact) for fact in facts)
        self.last_changes = changes
        if mark:
            # Orders placed before this batch whose active defects did not change keep their
            # mark, and so do rows this batch created without a problem (their mark is empty
            # already); the others (new with a defect, rebuilt, or changed) are marked anew.
            marks = []
            for c in changes:
                since = problem_since(facts_by_order[c.order_id])
                if c.order_id in before_by_order:
                    if problem_since(before_by_order[c.order_id]) != since:
                        marks.append((c.order_id, since))
                elif since is not None or not c.created:
                    marks.append((c.order_id, since))
            orders_mark_problems(marks)
        self.last_facts = facts_by_order
        self.last_before_facts = before_by_order
        self.last_cuts = cuts
        stale = [pk for key, (pk, _) in existing.items() if key not in seen]
        touched = sorted({row[0] for row in rows} | {key[0] for key in existing if key not in seen})
        watched = defects_watch(touched)
        bulk_upsert(Defect._meta.db_table, COLUMNS, rows, ["order_id", "kind", "source_key"])
        if stale:
            stale_defects_retire(stale)
        if watched is not None:
            defects_announce(watched, touched)

    def reset(self) -> None:
        """Nothing to delete: rows are kept (appeals reference them) and refreshed on replay."""

    def reset_marketplace(self, marketplace_id: int) -> None:
        """As reset(), for one marketplace."""


defect_projector = DefectProjector()
