"""Projections kept up to date from the ledger, batch by batch.

Apps above the ledger (defects, metrics, ...) register a projector in their AppConfig.ready();
ingestion hands every projector the orders a batch changed, inside the batch's transaction,
in registration order (INSTALLED_APPS order). `defectdesk rebuild` resets them and replays.
"""

from __future__ import annotations

from collections.abc import Sequence
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


class OrderColumns(Protocol):
    """A projector that also owns columns of the orders' rows (the defects projection owns
    `problem_since`). Its values are computed before the rows are written, so that each row
    is written once per batch, and `apply` then leaves those columns alone."""

    order_columns: tuple[str, ...]

    def prepare(self, pending: Sequence[PendingOrder]) -> list[tuple[Any, ...]]:
        """The values of `order_columns` for each pending order, in the same order."""


class Projector(Protocol):
    name: str

    def apply(self, changes: Sequence[OrderChange]) -> None:
        """Bring the projection up to date for these orders (set-based, in bulk)."""

    def reset(self) -> None:
        """Delete everything this projection holds, before a full rebuild."""


_PROJECTORS: list[Projector] = []


def projector_register(projector: Projector) -> None:
    if all(p.name != projector.name for p in _PROJECTORS):
        _PROJECTORS.append(projector)


def projectors() -> list[Projector]:
    return list(_PROJECTORS)


def column_owners() -> list[OrderColumns]:
    """The registered projectors that own columns of the orders' rows."""
    return [p for p in _PROJECTORS if hasattr(p, "prepare")]  # type: ignore[misc]
