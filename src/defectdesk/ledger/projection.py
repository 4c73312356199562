"""Projections kept up to date from the ledger, batch by batch.

The packages above the ledger install one `Pipeline` (metrics/pipeline.py): the projectors in
the order they run and the function that works out a batch's facts. Ingestion works the facts
out once per batch and hands them, with the orders the batch changed, to every projector inside
the batch's transaction. `defectdesk rebuild` resets them and replays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from defectdesk.ledger.fold import OrderState


@dataclass(frozen=True, slots=True)
class MarketplaceRef:
    id: int
    code: str
    timezone: ZoneInfo
    currency: str
    external: bool = False


@dataclass(frozen=True, slots=True)
class OrderChange:
    """One order a batch touched: its state before the batch and after it."""

    order_id: int
    seller_id: int
    marketplace: MarketplaceRef
    before: OrderState | None  # None when the order was not placed before this batch
    after: OrderState
    # True when this batch inserted the order's row, so its other columns (problem_since)
    # still hold their defaults. False when it updated a row, or cannot tell (SQLite).
    created: bool = False


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """An order whose row a batch is about to write: its row id if it has one yet."""

    order_id: int | None
    marketplace: MarketplaceRef
    before: OrderState | None
    after: OrderState


class Projector(Protocol):
    """A projection of the ledger kept up to date batch by batch, inside the batch's transaction.

    `facts` is what the pipeline's `facts` worked out for the batch's orders (once, before the
    orders' rows are written), handed to every projector alike."""

    name: str
    # Columns of the orders' rows this projection owns (the defects: `problem_since`). Their
    # values are computed before the rows are written, so each row is written once per batch.
    order_columns: tuple[str, ...]

    def order_values(self, pending: Sequence[PendingOrder], facts: Any) -> list[tuple[Any, ...]]:
        """The values of `order_columns` for each pending order, in the same order."""

    def apply(self, changes: Sequence[OrderChange], facts: Any) -> None:
        """Bring the projection up to date for these orders (set-based, in bulk)."""

    def retract(self, changes: Sequence[OrderChange], facts: Any) -> None:
        """Take back what these orders hold in the projection's aggregates, before a change
        that is not a ledger event (an approved appeal) is applied to them."""

    def reset(self) -> None:
        """Delete everything this projection holds, before a full rebuild."""

    def reset_marketplace(self, marketplace_id: int) -> None:
        """As reset(), for one marketplace's orders (before its policy is replayed)."""


def _no_facts(pending: Sequence[PendingOrder]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The projections ingestion keeps, in the order they run, and how a batch's facts are
    worked out for them."""

    facts: Callable[[Sequence[PendingOrder]], Any]
    projectors: tuple[Projector, ...]

    @property
    def order_columns(self) -> list[str]:
        return [column for p in self.projectors for column in p.order_columns]


# The ledger alone keeps only the orders projection; the packages above install theirs.
_pipeline = Pipeline(_no_facts, ())


def pipeline_install(pipeline: Pipeline) -> None:
    """Set the projections ingestion keeps (once, at start-up: metrics' AppConfig.ready())."""
    global _pipeline
    _pipeline = pipeline


def pipeline() -> Pipeline:
    return _pipeline
