"""An order's state as a pure function of its events (no ORM).

Events are applied in (occurred_at, event id) order, so the state is the same whatever order
or batches the events arrived in. History is kept (every shipment, scan, feedback posting,
claim decision and message) so that rules can evaluate the order as of any moment.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from defectdesk.core.timeutil import parse_aware


class LedgerEvent(NamedTuple):
    """An accepted event as the fold reads it (a named tuple, like `ValidEvent`, for speed)."""

    event_id: str
    type: str
    occurred_at: datetime
    seller: str
    data: Mapping[str, Any]

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.event_id)


@dataclass(frozen=True, slots=True)
class Shipment:
    at: datetime
    carrier: str | None
    tracking_number: str | None
    service: str | None
    event_id: str


@dataclass(frozen=True, slots=True)
class Scan:
    at: datetime
    status: str | None
    location: str | None
    event_id: str


@dataclass(frozen=True, slots=True)
class Refund:
    at: datetime
    amount: Decimal
    reason: str | None
    initiated_by: str | None
    event_id: str


@dataclass(frozen=True, slots=True)
class FeedbackPosting:
    at: datetime
    rating: int
    comment: str | None
    event_id: str


@dataclass(slots=True)
class Feedback:
    feedback_id: str
    postings: list[FeedbackPosting] = field(default_factory=list)
    removed_at: datetime | None = None
    removed_reason: str | None = None
    removed_event_id: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    at: datetime
    outcome: str
    event_id: str


@dataclass(slots=True)
class Dispute:
    """An A-to-z claim or a chargeback: filed once, decided (the latest decision wins)."""

    dispute_id: str
    filed_at: datetime | None = None
    reason: str | None = None
    amount: Decimal | None = None
    filed_event_id: str | None = None
    decisions: list[Decision] = field(default_factory=list)

    @property
    def outcome(self) -> str | None:
        return self.decisions[-1].outcome if self.decisions else None


@dataclass(slots=True)
class Message:
    """A buyer ("received") or seller ("sent") message; unknown until its event arrives."""

    message_id: str
    direction: str | None = None
    at: datetime | None = None
    body: str | None = None
    event_id: str | None = None
    no_response_needed_at: datetime | None = None


@dataclass(slots=True)
class OrderState:
    marketplace: str
    order_ref: str
    seller: str | None = None
    placed_event_id: str | None = None
    placed_at: datetime | None = None
    buyer: str | None = None
    fulfillment: str | None = None
    total_amount: Decimal | None = None
    currency: str | None = None
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    payment_ref: str | None = None
    shipments: list[Shipment] = field(default_factory=list)
    scans: list[Scan] = field(default_factory=list)
    delivered_at: datetime | None = None
    delivery_signature: bool | None = None
    proof_url: str | None = None
    delivered_event_id: str | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    cancel_event_id: str | None = None
    return_requested_at: datetime | None = None
    return_received_at: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)
    feedback: dict[str, Feedback] = field(default_factory=dict)
    claims: dict[str, Dispute] = field(default_factory=dict)
    chargebacks: dict[str, Dispute] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    event_ids: list[str] = field(default_factory=list)
    ignored_event_ids: list[str] = field(default_factory=list)
    last_event_at: datetime | None = None
    # The largest (occurred_at, event id) folded so far, applied or ignored.
    last_key: tuple[datetime, str] | None = None

    def clone(self, kinds: Collection[str]) -> OrderState:
        """A copy into which events of these types can be folded without changing this one.

        Only the histories those types add to are copied; the others are shared, since events
        of other types never change them in place.
        """
        more = OrderState(*_field_values(self))
        more.event_ids = list(self.event_ids)
        more.ignored_event_ids = list(self.ignored_event_ids)
        if "order.shipped" in kinds:
            more.shipments = list(self.shipments)
        if "shipment.scanned" in kinds:
            more.scans = list(self.scans)
        if "refund.issued" in kinds:
            more.refunds = list(self.refunds)
        if not _FEEDBACK_TYPES.isdisjoint(kinds):
            more.feedback = {
                k: Feedback(
                    f.feedback_id,
                    list(f.postings),
                    f.removed_at,
                    f.removed_reason,
                    f.removed_event_id,
                )
                for k, f in self.feedback.items()
            }
        if not _CLAIM_TYPES.isdisjoint(kinds):
            more.claims = {
                k: replace(d, decisions=list(d.decisions)) for k, d in self.claims.items()
            }
        if not _CHARGEBACK_TYPES.isdisjoint(kinds):
            more.chargebacks = {
                k: replace(d, decisions=list(d.decisions)) for k, d in self.chargebacks.items()
            }
        if not _MESSAGE_TYPES.isdisjoint(kinds):
            more.messages = {k: replace(m) for k, m in self.messages.items()}
        return more

    @property
    def is_placed(self) -> bool:
        return self.placed_at is not None

    @property
    def shipped_at(self) -> datetime | None:
        return self.shipments[0].at if self.shipments else None

    @property
    def first_shipment(self) -> Shipment | None:
        return self.shipments[0] if self.shipments else None

    @property
    def first_scan_at(self) -> datetime | None:
        return self.scans[0].at if self.scans else None

    @property
    def cancelled_before_shipment(self) -> bool:
        shipped = self.shipped_at
        return self.cancelled_at is not None and (shipped is None or self.cancelled_at < shipped)

    @property
    def refunded_amount(self) -> Decimal | None:
        if not self.refunds:
            return None
        return sum((r.amount for r in self.refunds), Decimal(0))

    @property
    def status(self) -> str:
        if self.cancelled_before_shipment:
            return "cancelled"
        if self.delivered_at is not None:
            return "delivered"
        if self.shipments:
            return "shipped"
        return "unshipped"

    @property
    def feedback_rating(self) -> int | None:
        """The latest rating in force among the order's feedback."""
        latest: FeedbackPosting | None = None
        for fb in self.feedback.values():
            if fb.removed_at is not None or not fb.postings:
                continue
            posting = fb.postings[-1]
            if latest is None or (posting.at, posting.event_id) > (latest.at, latest.event_id):
                latest = posting
        return latest.rating if latest else None


# Every field of OrderState in declaration order, read at once (for a fast shallow copy).
_field_values = attrgetter(*(f.name for f in fields(OrderState)))
_FEEDBACK_TYPES = frozenset({"feedback.posted", "feedback.removed"})
_CLAIM_TYPES = frozenset({"claim.filed", "claim.decided"})
_CHARGEBACK_TYPES = frozenset({"chargeback.filed", "chargeback.decided"})
_MESSAGE_TYPES = frozenset({"message.received", "message.sent", "message.no_response_needed"})


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return parse_aware(str(value))


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _key(event: LedgerEvent) -> tuple[datetime, str]:
    return (event.occurred_at, event.event_id)


def _fold_step(state: OrderState, event: LedgerEvent, placed: LedgerEvent | None) -> None:
    if (placed is not None and event.seller != placed.seller) or (
        event.type == "order.placed" and event is not placed
    ):
        state.ignored_event_ids.append(event.event_id)
    else:
        _apply(state, event)
        state.event_ids.append(event.event_id)
        state.last_event_at = event.occurred_at
    state.last_key = _key(event)


def fold_order(marketplace: str, order_ref: str, events: Iterable[LedgerEvent]) -> OrderState:
    """The state of one order from all of its events, in any order."""
    state = OrderState(marketplace=marketplace, order_ref=order_ref)
    ordered = sorted(events, key=_key)
    placed = next((e for e in ordered if e.type == "order.placed"), None)
    if placed is not None:
        state.seller = placed.seller
    for event in ordered:
        _fold_step(state, event, placed)
    if placed is None and ordered:
        state.seller = ordered[0].seller
    return state


def fold_more(state: OrderState, events: Iterable[LedgerEvent]) -> OrderState | None:
    """A placed order's state with more events folded in, when they all come after it.

    The result equals `fold_order` over all the events; None when some new event sorts
    before what was folded already (the caller then folds from scratch). `state` is unchanged.
    """
    ordered = sorted(events, key=_key)
    if state.placed_event_id is None or state.seller is None:
        return None
    if ordered and state.last_key is not None and _key(ordered[0]) <= state.last_key:
        return None
    assert state.placed_at is not None
    placed = LedgerEvent(state.placed_event_id, "order.placed", state.placed_at, state.seller, {})
    more = state.clone({e.type for e in ordered})
    for event in ordered:
        _fold_step(more, event, placed)
    return more


# -- what each event type changes in an order's state (one function a type) --------------


def _placed(state: OrderState, event: LedgerEvent) -> None:
    data = event.data
    total = data.get("total") or {}
    state.placed_event_id = event.event_id
    state.placed_at = event.occurred_at
    state.buyer = data.get("buyer")
    state.fulfillment = data.get("fulfillment")
    state.total_amount = _dec(total.get("amount"))
    state.currency = total.get("currency")
    state.ship_by = _dt(data.get("ship_by"))
    state.deliver_by = _dt(data.get("deliver_by"))
    state.items = list(data.get("items") or [])
    state.payment_ref = data.get("payment_ref")


def _shipped(state: OrderState, event: LedgerEvent) -> None:
    data = event.data
    state.shipments.append(
        Shipment(
            event.occurred_at,
            data.get("carrier"),
            data.get("tracking_number"),
            data.get("service"),
            event.event_id,
        )
    )


def _scanned(state: OrderState, event: LedgerEvent) -> None:
    data = event.data
    state.scans.append(
        Scan(event.occurred_at, data.get("status"), data.get("location"), event.event_id)
    )


def _delivered(state: OrderState, event: LedgerEvent) -> None:
    """The first delivery counts."""
    if state.delivered_at is None:
        state.delivered_at = event.occurred_at
        state.delivery_signature = event.data.get("signature")
        state.proof_url = event.data.get("proof_url")
        state.delivered_event_id = event.event_id


def _cancelled(state: OrderState, event: LedgerEvent) -> None:
    """The first cancellation counts."""
    if state.cancelled_at is None:
        state.cancelled_at = event.occurred_at
        state.cancelled_by = event.data.get("requested_by")
        state.cancel_event_id = event.event_id


def _return_requested(state: OrderState, event: LedgerEvent) -> None:
    state.return_requested_at = state.return_requested_at or event.occurred_at


def _return_received(state: OrderState, event: LedgerEvent) -> None:
    state.return_received_at = state.return_received_at or event.occurred_at


def _refunded(state: OrderState, event: LedgerEvent) -> None:
    data = event.data
    state.refunds.append(
        Refund(
            event.occurred_at,
            Decimal(str(data["amount"])),
            data.get("reason"),
            data.get("initiated_by"),
            event.event_id,
        )
    )


def _feedback(state: OrderState, event: LedgerEvent) -> Feedback:
    feedback_id = event.data["feedback_id"]
    return state.feedback.setdefault(feedback_id, Feedback(feedback_id))


def _feedback_posted(state: OrderState, event: LedgerEvent) -> None:
    _feedback(state, event).postings.append(
        FeedbackPosting(
            event.occurred_at, int(event.data["rating"]), event.data.get("comment"), event.event_id
        )
    )


def _feedback_removed(state: OrderState, event: LedgerEvent) -> None:
    """The first removal counts."""
    fb = _feedback(state, event)
    if fb.removed_at is None:
        fb.removed_at = event.occurred_at
        fb.removed_reason = event.data.get("reason")
        fb.removed_event_id = event.event_id


def _dispute(state: OrderState, event: LedgerEvent) -> Dispute:
    """The A-to-z claim or the chargeback the event is about."""
    if event.type.startswith("claim."):
        book, key = state.claims, event.data["claim_id"]
    else:
        book, key = state.chargebacks, event.data["chargeback_id"]
    return book.setdefault(key, Dispute(key))


def _dispute_filed(state: OrderState, event: LedgerEvent) -> None:
    """The first filing counts."""
    dispute = _dispute(state, event)
    if dispute.filed_at is None:
        dispute.filed_at = event.occurred_at
        dispute.reason = event.data.get("reason")
        dispute.amount = _dec(event.data.get("amount"))
        dispute.filed_event_id = event.event_id


def _dispute_decided(state: OrderState, event: LedgerEvent) -> None:
    _dispute(state, event).decisions.append(
        Decision(event.occurred_at, event.data["outcome"], event.event_id)
    )


def _message(state: OrderState, event: LedgerEvent) -> Message:
    message_id = event.data["message_id"]
    return state.messages.setdefault(message_id, Message(message_id))


def _message_written(state: OrderState, event: LedgerEvent) -> None:
    """A message received or sent: the first event of that message counts."""
    message = _message(state, event)
    if message.event_id is None:
        message.direction = "received" if event.type == "message.received" else "sent"
        message.at, message.body = event.occurred_at, event.data.get("body")
        message.event_id = event.event_id


def _no_response_needed(state: OrderState, event: LedgerEvent) -> None:
    message = _message(state, event)
    if message.no_response_needed_at is None:
        message.no_response_needed_at = event.occurred_at


_APPLY: dict[str, Callable[[OrderState, LedgerEvent], None]] = {
    "order.placed": _placed,
    "order.shipped": _shipped,
    "shipment.scanned": _scanned,
    "order.delivered": _delivered,
    "order.cancelled": _cancelled,
    "return.requested": _return_requested,
    "return.received": _return_received,
    "refund.issued": _refunded,
    "feedback.posted": _feedback_posted,
    "feedback.removed": _feedback_removed,
    "claim.filed": _dispute_filed,
    "chargeback.filed": _dispute_filed,
    "claim.decided": _dispute_decided,
    "chargeback.decided": _dispute_decided,
    "message.received": _message_written,
    "message.sent": _message_written,
    "message.no_response_needed": _no_response_needed,
}


def _apply(state: OrderState, event: LedgerEvent) -> None:
    """Change the state by one event (a type with no effect on the state changes nothing)."""
    apply = _APPLY.get(event.type)
    if apply is not None:
        apply(state, event)
