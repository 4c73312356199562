"""The event wire format of DESIGN §2: validation and normalisation (pure, no ORM)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from defectdesk.core.errors import FieldError
from defectdesk.core.money import parse_amount

_DECIMAL = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ID = re.compile(r"^[\x21-\x7e]{1,128}$")


def _amount(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str) or not _DECIMAL.match(value):
        raise ValueError('must be a decimal string such as "19.99"')
    if parse_amount(value) < 0:
        raise ValueError("must not be negative")
    return value


def _currency(value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise ValueError("must be a three-letter ISO 4217 code such as USD")
    return value


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Amount = Annotated[str, BeforeValidator(_amount)]
Currency = Annotated[str, BeforeValidator(_currency)]
Ident = Annotated[str, Field(max_length=128), AfterValidator(_nonblank)]
Text = Annotated[str, Field(max_length=10_000)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")


class MoneyData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Amount
    currency: Currency


class ItemData(_Data):
    sku: Annotated[str, Field(max_length=64)]
    title: Annotated[str, Field(max_length=500)] | None = None
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1
    price: Amount | None = None


class OrderPlaced(_Data):
    buyer: Ident
    fulfillment: Literal["merchant", "marketplace"]
    total: MoneyData
    ship_by: AwareDatetime
    deliver_by: AwareDatetime
    items: Annotated[list[ItemData], Field(max_length=1_000)] = []
    payment_ref: Ident | None = None


class OrderShipped(_Data):
    carrier: Annotated[str, Field(max_length=100)] | None = None
    tracking_number: Annotated[str, Field(max_length=128)] | None = None
    service: Annotated[str, Field(max_length=100)] | None = None


class ShipmentScanned(_Data):
    status: Literal["accepted", "in_transit", "out_for_delivery", "exception"] | None = None
    location: Annotated[str, Field(max_length=200)] | None = None


class OrderDelivered(_Data):
    signature: bool | None = None
    proof_url: Annotated[str, Field(max_length=2_000)] | None = None


class OrderCancelled(_Data):
    requested_by: Literal["buyer", "seller", "marketplace"]
    reason: Text | None = None


class ReturnEvent(_Data):
    reason: Text | None = None


class RefundIssued(_Data):
    amount: Amount
    reason: Text | None = None
    initiated_by: Literal["seller", "marketplace"] | None = None


class FeedbackPosted(_Data):
    feedback_id: Ident
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: Text | None = None


class FeedbackRemoved(_Data):
    feedback_id: Ident
    reason: Text | None = None


class ClaimFiled(_Data):
    claim_id: Ident
    reason: Literal["not_received", "not_as_described", "return_not_refunded", "other"]
    amount: Amount | None = None


class ClaimDecided(_Data):
    claim_id: Ident
    outcome: Literal[
        "denied",
        "withdrawn",
        "refunded_by_seller",
        "granted_seller_funded",
        "granted_marketplace_funded",
    ]


class ChargebackFiled(_Data):
    chargeback_id: Ident
    reason: Literal[
        "not_received", "not_as_described", "duplicate", "fraud", "unrecognized", "other"
    ]
    amount: Amount | None = None


class ChargebackDecided(_Data):
    chargeback_id: Ident
    outcome: Literal["won", "lost", "accepted"]


class MessageEvent(_Data):
    message_id: Ident
    body: Text | None = None


class MessageNoResponseNeeded(_Data):
    message_id: Ident


DATA_SCHEMAS: dict[str, type[BaseModel]] = {
    "order.placed": OrderPlaced,
    "order.shipped": OrderShipped,
    "shipment.scanned": ShipmentScanned,
    "order.delivered": OrderDelivered,
    "order.cancelled": OrderCancelled,
    "return.requested": ReturnEvent,
    "return.received": ReturnEvent,
    "refund.issued": RefundIssued,
    "feedback.posted": FeedbackPosted,
    "feedback.removed": FeedbackRemoved,
    "claim.filed": ClaimFiled,
    "claim.decided": ClaimDecided,
    "chargeback.filed": ChargebackFiled,
    "chargeback.decided": ChargebackDecided,
    "message.received": MessageEvent,
    "message.sent": MessageEvent,
    "message.no_response_needed": MessageNoResponseNeeded,
}
EVENT_TYPES = tuple(DATA_SCHEMAS)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, Field(pattern=_ID.pattern)]
    type: str
    occurred_at: AwareDatetime
    marketplace: Annotated[str, Field(min_length=1, max_length=16)]
    seller: Annotated[str, Field(max_length=64)] = Field(pattern=r"^[\x21-\x7e]{1,64}$")
    order: Annotated[str, Field(max_length=64)] = Field(pattern=r"^[\x21-\x7e]{1,64}$")
    data: dict[str, Any]


_ENVELOPE = TypeAdapter(Envelope)


@dataclass(frozen=True, slots=True)
class ValidEvent:
    """An event that passed validation, in normalised form."""

    event_id: str
    type: str
    occurred_at: datetime  # aware, UTC
    marketplace: str
    seller: str
    order: str
    data: dict[str, Any]
    body_hash: str


@dataclass(frozen=True, slots=True)
class MarketplaceInfo:
    code: str
    currency: str


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "event"


def _messages(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False):
        field = _loc(tuple(err["loc"]))
        message = err["msg"]
        if err["type"] == "missing":
            message = "is required"
        elif err["type"] == "extra_forbidden":
            message = "is not a field of this event"
        elif err["type"] == "timezone_aware":
            message = "must carry a UTC offset (a naive time is ambiguous)"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        errors.append(FieldError(f"{prefix}{field}", message))
    return errors


def event_hash(body: Mapping[str, Any]) -> str:
    """A stable hash of an event body: same body, same hash, whatever the key order."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def event_validate(
    raw: object, marketplaces: Mapping[str, MarketplaceInfo]
) -> ValidEvent | list[FieldError]:
    """Validate one raw event; a ValidEvent, or the errors naming each bad field."""
    if not isinstance(raw, dict):
        return [FieldError("event", "must be a JSON object")]
    try:
        envelope = _ENVELOPE.validate_python(raw)
    except ValidationError as exc:
        return _messages(exc)
    errors: list[FieldError] = []
    schema = DATA_SCHEMAS.get(envelope.type)
    if schema is None:
        errors.append(
            FieldError(
                "type",
                f"unknown event type {envelope.type!r}; expected one of " + ", ".join(EVENT_TYPES),
            )
        )
    market = marketplaces.get(envelope.marketplace)
    if market is None:
        errors.append(
            FieldError(
                "marketplace",
                f"unknown marketplace {envelope.marketplace!r}; "
                "create it with `defectdesk marketplace set`",
            )
        )
    if schema is None:
        return errors
    try:
        data = schema.model_validate(envelope.data)
    except ValidationError as exc:
        return errors + _messages(exc, "data.")
    if market is not None and isinstance(data, OrderPlaced):
        total = data.total
        if total.currency != market.currency:
            errors.append(
                FieldError(
                    "data.total.currency",
                    f"{total.currency} is not the currency of marketplace "
                    f"{market.code} ({market.currency})",
                )
            )
    if errors:
        return errors
    normalised = data.model_dump(mode="json", exclude_none=True)
    occurred = envelope.occurred_at.astimezone(UTC)
    body = {
        "id": envelope.id,
        "type": envelope.type,
        "occurred_at": envelope.occurred_at.isoformat(),
        "marketplace": envelope.marketplace,
        "seller": envelope.seller,
        "order": envelope.order,
        "data": normalised,
    }
    return ValidEvent(
        event_id=envelope.id,
        type=envelope.type,
        occurred_at=occurred,
        marketplace=envelope.marketplace,
        seller=envelope.seller,
        order=envelope.order,
        data=normalised,
        body_hash=event_hash(body),
    )


def unflatten_csv_row(row: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row (`data.total.amount` columns) as a nested event; empty cells are absent."""
    event: dict[str, Any] = {}
    for column, value in row.items():
        if column is None or value is None or value == "":
            continue
        parts = column.strip().split(".")
        target = event
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                break
            target = nested
        else:
            leaf = parts[-1]
            if column.strip() == "data.items":
                try:
                    target[leaf] = orjson.loads(value)
                except orjson.JSONDecodeError:
                    target[leaf] = value
            else:
                target[leaf] = value
    event.setdefault("data", {})
    return event
