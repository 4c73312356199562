"""The one action that takes events into the ledger: validate, dedupe, append, project.

Set-based per batch: a handful of statements per batch whatever its size, never one per event.
The file importer, the HTTP API and the Stripe webhook all call `events_ingest`.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, NamedTuple

import orjson
from django.db import connection, transaction
from django.utils import timezone

from defectdesk.accounts.models import Seller
from defectdesk.core.bulk import bulk_insert, bulk_upsert, fetch_in, is_postgres
from defectdesk.core.collector import collector_paused
from defectdesk.core.datacache import data_changed
from defectdesk.core.errors import FieldError
from defectdesk.core.timeutil import local_date, zone
from defectdesk.ledger.fold import LedgerEvent, OrderState, fold_more, fold_order
from defectdesk.ledger.models import Event, Marketplace, Order
from defectdesk.ledger.projection import (
    MarketplaceRef,
    OrderChange,
    PendingOrder,
    pipeline,
)
from defectdesk.ledger.schemas import MarketplaceInfo, ValidEvent, event_validate

INGEST_LOCK_KEY = 0x44656665
# Writers lock the slots of the sellers they touch (docs/scaling.md): batches of different
# sellers apply in parallel, batches that share a seller one after the other.
LOCK_SLOTS = 64
IN_CHUNK = 2000
EVENT_TABLE = Event._meta.db_table
ORDER_TABLE = Order._meta.db_table
SELLER_TABLE = Seller._meta.db_table


def seller_slot(seller: str) -> int:
    """The lock slot of a seller (stable across processes and releases)."""
    return zlib.crc32(seller.encode()) % LOCK_SLOTS


def ingest_lock(sellers: Iterable[str] | None = None) -> None:
    """Take, until the transaction ends, the ingestion locks of these sellers (all if None).

    Slots are taken in ascending order by every writer, so two writers never deadlock.
    SQLite needs nothing: it has one writer at a time.
    """
    if not is_postgres():
        return
    slots = range(LOCK_SLOTS) if sellers is None else sorted({seller_slot(s) for s in sellers})
    with connection.cursor() as cur:
        # One statement; the ordered subquery makes the locks be taken in ascending order.
        cur.execute(
            "SELECT count(pg_advisory_xact_lock(%s, slot)) FROM "
            "(SELECT unnest(%s::int[]) AS slot ORDER BY 1) AS slots",
            [INGEST_LOCK_KEY, list(slots)],
        )


class Candidate(NamedTuple):
    """One input event: its position (line or index), the parsed object, or why it did not parse.

    (A named tuple, like `ValidEvent`, for speed: one is built per input event.)"""

    position: int
    raw: Any = None
    errors: tuple[FieldError, ...] = ()

    @property
    def event_id(self) -> str | None:
        if isinstance(self.raw, dict) and isinstance(self.raw.get("id"), str):
            return self.raw["id"][:128]
        return None


@dataclass(frozen=True, slots=True)
class Reject:
    position: int
    event_id: str | None
    errors: tuple[FieldError, ...]

    def as_dict(self, position_name: str = "index") -> dict[str, Any]:
        return {
            position_name: self.position,
            "id": self.event_id,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    rejected: list[Reject] = field(default_factory=list)

    def merge(self, other: IngestResult) -> None:
        self.created += other.created
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)


def marketplace_refs() -> dict[str, MarketplaceRef]:
    return {
        m.code: MarketplaceRef(m.id, m.code, zone(m.timezone), m.currency, m.external)
        for m in Marketplace.objects.all()
    }


def events_ingest(
    candidates: Sequence[Candidate],
    *,
    markets: dict[str, MarketplaceRef] | None = None,
    durable: bool = True,
    cache: FoldCache | None = None,
) -> IngestResult:
    """Validate and apply one batch in one transaction; rejects are reported, never applied.

    `durable=False` (file imports) lets PostgreSQL acknowledge the commit before its WAL is
    flushed: a crash can lose the last batches, and re-running the import restores them.
    A `cache` (one per import run) keeps recently folded orders so that their events need
    not be read back and refolded when more of them arrive. The cyclic garbage collector is
    paused while the batch is applied (`collector_paused`).
    """
    with collector_paused():
        return _ingest(candidates, markets, durable, cache)


def _ingest(
    candidates: Sequence[Candidate],
    markets: dict[str, MarketplaceRef] | None,
    durable: bool,
    cache: FoldCache | None,
) -> IngestResult:
    markets = markets if markets is not None else marketplace_refs()
    infos = {
        code: MarketplaceInfo(code, ref.currency, ref.external) for code, ref in markets.items()
    }
    result = IngestResult()
    valid: list[tuple[Candidate, ValidEvent]] = []
    for cand in candidates:
        if cand.errors:
            result.rejected.append(Reject(cand.position, cand.event_id, cand.errors))
            continue
        checked = event_validate(cand.raw, infos)
        if isinstance(checked, list):
            result.rejected.append(Reject(cand.position, cand.event_id, tuple(checked)))
        else:
            valid.append((cand, checked))
    if not valid:
        return result
    with transaction.atomic():
        ingest_lock({e.seller for _, e in valid})
        if not durable and is_postgres():
            with connection.cursor() as cur:
                # A batch's statements are planned for thousands of rows: past JIT's cost
                # threshold, where compiling them takes longer than running them.
                cur.execute("SET LOCAL synchronous_commit = off; SET LOCAL jit = off")
        accepted = _dedupe(valid, result)
        stored = stored_orders({(markets[e.marketplace].id, e.order) for _, e in accepted})
        accepted = _check_orders(accepted, markets, result, stored)
        if accepted:
            events = [e for _, e in accepted]
            plan = _plan(events, markets, stored, cache)
            data_changed(_append(accepted, markets))
            _project(plan, markets, cache, {key: o.id for key, o in stored.items()})
            _disputes_waiting(events)
        result.created = len(accepted)
    return result


def _disputes_waiting(events: Sequence[ValidEvent]) -> None:
    """Apply the Stripe disputes that were waiting for the orders this batch placed."""
    placed = [
        (e.marketplace, e.order, e.data.get("payment_ref"))
        for e in events
        if e.type == "order.placed"
    ]
    if placed:
        from defectdesk.ledger.webhooks import stripe_disputes_for_placed

        stripe_disputes_for_placed(placed)


def _dedupe(
    valid: list[tuple[Candidate, ValidEvent]], result: IngestResult
) -> list[tuple[Candidate, ValidEvent]]:
    """Drop repeats (same id, same body) and reject clashes (same id, another body)."""
    seen: dict[str, str] = {}
    ids = list({e.event_id for _, e in valid})
    sql = f"SELECT event_id, body_hash FROM {EVENT_TABLE} WHERE {{in}}"  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
    existing: dict[str, str] = dict(fetch_in(sql, "event_id", ids))
    accepted = []
    for cand, event in valid:
        known = existing.get(event.event_id) or seen.get(event.event_id)
        if known is None:
            seen[event.event_id] = event.body_hash
            accepted.append((cand, event))
        elif known == event.body_hash:
            result.duplicates += 1
        else:
            result.rejected.append(
                Reject(
                    cand.position,
                    event.event_id,
                    (
                        FieldError(
                            "id",
                            f"event id {event.event_id!r} was already used for an event "
                            "with a different body",
                        ),
                    ),
                )
            )
    return accepted


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """What a batch needs of an order already placed: its row, seller and applied events."""

    id: int
    seller: str  # external id
    event_count: int


def stored_orders(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], StoredOrder]:
    """The stored rows of those of these orders (marketplace id, order ref) already placed."""
    by_market: dict[int, set[str]] = defaultdict(set)
    for market_id, ref in keys:
        by_market[market_id].add(ref)
    found: dict[tuple[int, str], StoredOrder] = {}
    for market_id, refs in by_market.items():
        rows = fetch_in(
            f"SELECT o.order_ref, o.id, s.external_id, o.event_count FROM {ORDER_TABLE} o "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            f"JOIN {SELLER_TABLE} s ON s.id = o.seller_id WHERE o.marketplace_id = %s AND {{in}}",
            "o.order_ref",
            sorted(refs),
            [market_id],
        )
        found.update(
            ((market_id, ref), StoredOrder(pk, seller, count)) for ref, pk, seller, count in rows
        )
    return found


def _check_orders(
    accepted: list[tuple[Candidate, ValidEvent]],
    markets: dict[str, MarketplaceRef],
    result: IngestResult,
    stored: dict[tuple[int, str], StoredOrder],
) -> list[tuple[Candidate, ValidEvent]]:
    """Reject a second order.placed and events whose seller is not the order's (`stored`: the
    batch's orders already placed)."""
    owner: dict[tuple[int, str], str] = {key: o.seller for key, o in stored.items()}
    placed_in_db = set(owner)
    for _, e in accepted:
        key = (markets[e.marketplace].id, e.order)
        if e.type == "order.placed" and key not in owner:
            owner[key] = e.seller
    placed_here: set[tuple[int, str]] = set()
    kept = []
    for cand, e in accepted:
        key = (markets[e.marketplace].id, e.order)
        error = None
        if e.type == "order.placed":
            if key in placed_in_db or key in placed_here:
                error = FieldError(
                    "order", f"order {e.order!r} in {e.marketplace} was already placed"
                )
            elif owner[key] != e.seller:
                error = FieldError("seller", f"order {e.order!r} belongs to seller {owner[key]!r}")
            else:
                placed_here.add(key)
        elif key in owner and owner[key] != e.seller:
            error = FieldError(
                "seller", f"order {e.order!r} belongs to seller {owner[key]!r}, not {e.seller!r}"
            )
        if error is None:
            kept.append((cand, e))
        else:
            result.rejected.append(Reject(cand.position, e.event_id, (error,)))
    return kept


def _seller_ids(external_ids: set[str]) -> dict[str, int]:
    """Seller ids by external id, creating the sellers that do not exist yet."""
    wanted = sorted(external_ids)
    sql = f"SELECT external_id, id FROM {SELLER_TABLE} WHERE {{in}}"  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
    ids: dict[str, int] = dict(fetch_in(sql, "external_id", wanted))
    missing = [s for s in wanted if s not in ids]
    if missing:
        Seller.objects.bulk_create([Seller(external_id=s) for s in missing], ignore_conflicts=True)
        ids.update(fetch_in(sql, "external_id", missing))
    return ids


def _append(
    accepted: list[tuple[Candidate, ValidEvent]], markets: dict[str, MarketplaceRef]
) -> list[int]:
    """Store the events; the ids of their sellers."""
    sellers = _seller_ids({e.seller for _, e in accepted})
    now = timezone.now()
    dumps = orjson.dumps
    bulk_insert(
        EVENT_TABLE,
        [
            "event_id",
            "type",
            "occurred_at",
            "marketplace_id",
            "seller_id",
            "order_ref",
            "data",
            "body_hash",
            "received_at",
        ],
        (
            (
                e.event_id,
                e.type,
                e.occurred_at,
                markets[e.marketplace].id,
                sellers[e.seller],
                e.order,
                dumps(e.data).decode(),
                e.body_hash,
                now,
            )
            for _, e in accepted
        ),
        prepared=True,
    )
    return list(sellers.values())


def load_order_events(
    keys: set[tuple[int, str]],
) -> dict[tuple[int, str], list[LedgerEvent]]:
    """Every stored event of these orders, grouped by (marketplace id, order ref)."""
    by_market: dict[int, list[str]] = defaultdict(list)
    for market_id, ref in keys:
        by_market[market_id].append(ref)
    grouped: dict[tuple[int, str], list[LedgerEvent]] = defaultdict(list)
    data_col = "e.data::text" if is_postgres() else "e.data"
    rows: list[tuple[Any, ...]] = []
    for market_id, refs in by_market.items():
        rows.extend(
            (market_id, *row)
            for row in fetch_in(
                f"SELECT e.order_ref, e.event_id, e.type, e.occurred_at, e.seller_id, "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                f"{data_col} FROM {EVENT_TABLE} e WHERE e.marketplace_id = %s AND {{in}}",
                "e.order_ref",
                refs,
                [market_id],
            )
        )
    seller_ids = sorted({row[5] for row in rows})
    sellers = dict(
        fetch_in(f"SELECT id, external_id FROM {SELLER_TABLE} WHERE {{in}}", "id", seller_ids)  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
    )
    loads = orjson.loads
    for market_id, ref, event_id, kind, occurred, seller_id, data in rows:
        occurred = _as_utc(occurred)
        grouped[(market_id, ref)].append(
            LedgerEvent(
                event_id,
                kind,
                occurred,
                sellers[seller_id],
                loads(data) if isinstance(data, (str, bytes)) else data,
            )
        )
    return grouped


def _as_utc(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back naive times or text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


ORDER_COLUMNS = [
    "marketplace_id",
    "order_ref",
    "seller_id",
    "status",
    "placed_at",
    "order_date",
    "buyer",
    "fulfillment",
    "total_amount",
    "currency",
    "ship_by",
    "deliver_by",
    "payment_ref",
    "items",
    "skus",
    "shipped_at",
    "carrier",
    "tracking_number",
    "shipping_service",
    "first_scan_at",
    "delivered_at",
    "cancelled_at",
    "cancelled_by",
    "return_requested_at",
    "return_received_at",
    "refunded_amount",
    "first_refund_at",
    "feedback_rating",
    "last_event_at",
    "event_count",
]


def order_row(state: OrderState, market: MarketplaceRef, seller_id: int) -> list[Any]:
    """The orders-projection row of a placed order (its items already JSON text)."""
    assert state.placed_at is not None
    shipment = state.first_shipment
    return [
        market.id,
        state.order_ref,
        seller_id,
        state.status,
        state.placed_at,
        local_date(state.placed_at, market.timezone),
        state.buyer,
        state.fulfillment,
        state.total_amount,
        state.currency or market.currency,
        state.ship_by,
        state.deliver_by,
        state.payment_ref,
        orjson.dumps(state.items).decode(),
        " ".join(str(i.get("sku", "")) for i in state.items)[:500],
        shipment.at if shipment else None,
        shipment.carrier if shipment else None,
        shipment.tracking_number if shipment else None,
        shipment.service if shipment else None,
        state.first_scan_at,
        state.delivered_at,
        state.cancelled_at,
        state.cancelled_by,
        state.return_requested_at,
        state.return_received_at,
        state.refunded_amount,
        state.refunds[0].at if state.refunds else None,
        state.feedback_rating,
        state.last_event_at,
        len(state.event_ids),
    ]


class FoldCache:
    """Recently folded orders of one import run; the least recently used are dropped.

    An entry is used only while the order's stored applied-event count still matches it, so
    events that another writer added in the meantime send the order back to a full refold.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        # Least recently put first (a dict keeps insertion order; cheaper than an OrderedDict).
        self._states: dict[tuple[int, str], OrderState] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[int, str], count: int | None) -> OrderState | None:
        """The cached state, if it still holds every applied event (its recency is renewed
        when the batch puts the order's new state)."""
        state = self._states.get(key)
        if state is None or count != len(state.event_ids):
            return None
        return state

    def put_all(self, states: list[tuple[tuple[int, str], OrderState]]) -> None:
        held = self._states
        for key, state in states:
            held.pop(key, None)
            held[key] = state
        excess = len(held) - self.capacity
        if excess > 0:
            for key in list(islice(held, excess)):
                del held[key]


@dataclass
class _Plan:
    """How a batch's touched orders will be folded, worked out before the batch is stored."""

    # The batch's events of each touched order, in arrival order.
    new: dict[tuple[int, str], list[LedgerEvent]]
    # Orders whose cached state takes the new events: (key, cached state, state after).
    extended: list[tuple[tuple[int, str], OrderState, OrderState]]
    # Orders folded from their stored events (read before the batch's own were appended).
    stored: dict[tuple[int, str], list[LedgerEvent]]


def _plan(
    accepted: list[ValidEvent],
    markets: dict[str, MarketplaceRef],
    placed: dict[tuple[int, str], StoredOrder],
    cache: FoldCache | None,
) -> _Plan:
    """Fold forward the cached orders; read the stored events of the others.

    Runs before the batch is appended, so what is read back is only what was stored earlier:
    an order placed in this batch usually has nothing stored, and costs an empty lookup.
    """
    new: dict[tuple[int, str], list[LedgerEvent]] = defaultdict(list)
    for e in accepted:
        new[(markets[e.marketplace].id, e.order)].append(
            LedgerEvent(e.event_id, e.type, e.occurred_at, e.seller, e.data)
        )
    extended: list[tuple[tuple[int, str], OrderState, OrderState]] = []
    refold: set[tuple[int, str]] = set()
    for key, evs in new.items():
        known = placed.get(key)
        count = known.event_count if known is not None else None
        cached = cache.get(key, count) if cache is not None else None
        after = fold_more(cached, evs) if cached is not None else None
        if after is None:
            refold.add(key)
        else:
            assert cached is not None
            extended.append((key, cached, after))
    if cache is not None:
        cache.hits += len(extended)
        cache.misses += len(refold)
    return _Plan(new, extended, load_order_events(refold))


def _project(
    plan: _Plan,
    markets: dict[str, MarketplaceRef],
    cache: FoldCache | None,
    ids: dict[tuple[int, str], int],
) -> None:
    """Project the touched orders: their state before and after the batch."""
    by_id = {ref.id: ref for ref in markets.values()}
    states: list[tuple[OrderState | None, OrderState, MarketplaceRef]] = [
        (cached, after, by_id[key[0]]) for key, cached, after in plan.extended
    ]
    folded = {key for key, _, _ in plan.extended}
    for key, evs in plan.new.items():
        if key in folded:
            continue
        market = by_id[key[0]]
        old = plan.stored.get(key, [])
        before = fold_order(market.code, key[1], old) if old else None
        # Usually the new events come after the stored ones: fold them onto `before`.
        after = fold_more(before, evs) if before is not None else None
        if after is None:
            after = fold_order(market.code, key[1], [*old, *evs])
        if not after.is_placed:
            continue
        if before is not None and not before.is_placed:
            before = None
        states.append((before, after, market))
    project_states(states, ids)
    if cache is not None:
        done = [((m.id, after.order_ref), after) for _, after, m in states]
        transaction.on_commit(lambda: cache.put_all(done))


def project_states(
    states: list[tuple[OrderState | None, OrderState, MarketplaceRef]],
    ids: dict[tuple[int, str], int] | None = None,
) -> None:
    """Upsert the orders' rows and hand the changes to every projector of the pipeline.

    The batch's facts are worked out once, before the rows are written (the rows carry the
    columns projectors own), and every projector gets the same facts. `ids` holds the row ids
    of orders already stored, when the caller has read them."""
    if not states:
        return
    chosen = pipeline()
    sellers = _seller_ids({after.seller or "" for _, after, _ in states})
    rows = [order_row(after, market, sellers[after.seller or ""]) for _, after, market in states]
    columns = list(ORDER_COLUMNS)
    facts = None
    if chosen.projectors:
        if ids is None:
            keys = {(m.id, after.order_ref) for _, after, m in states}
            ids = {key: o.id for key, o in stored_orders(keys).items()}
        pending = [
            PendingOrder(ids.get((m.id, after.order_ref)), m, before, after)
            for before, after, m in states
        ]
        facts = chosen.facts(pending)
        for projector in chosen.projectors:
            if projector.order_columns:
                columns.extend(projector.order_columns)
                values = projector.order_values(pending, facts)
                for row, extra in zip(rows, values, strict=True):
                    row.extend(extra)
    # PostgreSQL tells an inserted row from an updated one: a new row has no xmax yet.
    created = "xmax = 0" if is_postgres() else "FALSE"
    returned = bulk_upsert(
        ORDER_TABLE,
        columns,
        rows,
        ["marketplace_id", "order_ref"],
        returning=["id", "marketplace_id", "order_ref", created],
        prepared=True,
    )
    by_key = {(market_id, ref): (pk, bool(new)) for pk, market_id, ref, new in returned}
    changes = []
    for before, after, market in states:
        pk, new = by_key[(market.id, after.order_ref)]
        changes.append(
            OrderChange(pk, sellers[after.seller or ""], market, before, after, created=new)
        )
    for projector in chosen.projectors:
        projector.apply(changes, facts)
