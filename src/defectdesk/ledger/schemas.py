"""The event wire format of DESIGN §2: validation and normalisation (pure, no ORM)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

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
from pydantic.fields import FieldInfo

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


class ExternalOrderPlaced(OrderPlaced):
    """An order of an external marketplace (mirror mode): its reports may not say who bought,
    nor by when it had to ship or arrive; those facts stay unknown (DESIGN §2)."""

    buyer: Ident | None = None  # type: ignore[assignment]
    ship_by: AwareDatetime | None = None  # type: ignore[assignment]
    deliver_by: AwareDatetime | None = None  # type: ignore[assignment]


class ExternalOrderCancelled(OrderCancelled):
    """A cancellation an external marketplace reports without saying who asked for it."""

    requested_by: Literal["buyer", "seller", "marketplace"] | None = None  # type: ignore[assignment]


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
# Where an external marketplace's events may leave facts unknown.
EXTERNAL_SCHEMAS: dict[str, type[BaseModel]] = {
    "order.placed": ExternalOrderPlaced,
    "order.cancelled": ExternalOrderCancelled,
}


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


class ValidEvent(NamedTuple):
    """An event that passed validation, in normalised form.

    (A named tuple, not a frozen dataclass: an import builds millions, and a frozen
    dataclass takes three times as long to build.)"""

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
    external: bool = False


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


def _body_bytes(body: Mapping[str, Any]) -> bytes:
    """An event body's JSON, keys sorted: its SHA-256 is the event's hash (same body, same
    hash, whatever the key order)."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


NUL_MESSAGE = "must not contain NUL characters"


def nul_fields(value: Any, path: str) -> list[str]:
    """The fields of a parsed JSON value whose text or name holds a NUL character, as dotted
    paths from `path` (a NUL in a name shown as \\0). No database stores NUL in text."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(value, path)]  # a loop, not recursion: any depth
    while stack:
        item, where = stack.pop()
        if type(item) is str:
            if "\x00" in item:
                found.append(where)
        elif type(item) is dict:
            for key, inner in item.items():
                name = f"{where}.{key}"
                if "\x00" in key:
                    found.append(name.replace("\x00", "\\0"))
                else:
                    stack.append((inner, name))
        elif type(item) is list:
            stack.extend((inner, f"{where}.{i}") for i, inner in enumerate(item))
    return sorted(found)


def _normalised(
    event_id: str,
    kind: str,
    occurred_at: datetime,
    marketplace: str,
    seller: str,
    order: str,
    data: dict[str, Any],
) -> ValidEvent | None:
    """The ValidEvent of checked fields: time in UTC, and the hash of the normalised body
    (with the time as it was sent, offset kept); None if a NUL character is in the data.

    The envelope's fields cannot hold one (their patterns and choices); the data is looked
    through only when its JSON text shows the escape a NUL is written as."""
    body = {
        "id": event_id,
        "type": kind,
        "occurred_at": occurred_at.isoformat(),
        "marketplace": marketplace,
        "seller": seller,
        "order": order,
        "data": data,
    }
    encoded = _body_bytes(body)
    if b"\\u0000" in encoded and nul_fields(data, "data"):
        return None
    return ValidEvent(
        event_id,
        kind,
        occurred_at.astimezone(UTC),
        marketplace,
        seller,
        order,
        data,
        hashlib.sha256(encoded).hexdigest(),
    )


# --- the plain path --------------------------------------------------------------------------
# Nearly every event of an import is plain: the envelope's fields and the data's declared fields
# only, each of its exact JSON type. For those, `_plain_event` gives exactly what the models
# above give, several times faster; anything else (a bad value, an extra field, a number sent as
# text) returns None and goes through the models, which also name what is wrong. The tests hold
# the two paths to the same result, field by field and on generated events.

_NOT = object()  # what a plain checker returns for a value it does not take
_ENVELOPE_KEYS = frozenset({"id", "type", "occurred_at", "marketplace", "seller", "order", "data"})
_PRINTABLE = re.compile(r"[\x21-\x7e]{1,128}")
_PRINTABLE_64 = re.compile(r"[\x21-\x7e]{1,64}")
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)")


def _plain_instant(value: object) -> datetime | None:
    if type(value) is not str or not _INSTANT.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _p_instant(value: object) -> object:
    moment = _plain_instant(value)
    if moment is None:
        return _NOT
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _p_str(limit: int) -> Any:
    def check(value: object) -> object:
        return value if type(value) is str and len(value) <= limit else _NOT

    return check


def _p_ident(value: object) -> object:
    if type(value) is str and len(value) <= 128 and value.strip():
        return value
    return _NOT


def literal_choices(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The values the model's Literal field `name` allows, in their declared order."""
    annotation = model.model_fields[name].annotation
    options = [annotation, *get_args(annotation)]
    literal = next(a for a in options if get_origin(a) is Literal)
    return tuple(get_args(literal))


def _p_choice(allowed: frozenset[str]) -> Any:
    """A checker of one of these values."""

    def check(value: object) -> object:
        return value if type(value) is str and value in allowed else _NOT

    return check


def _p_amount(value: object) -> object:
    if type(value) is str and not value.startswith("-") and _DECIMAL.fullmatch(value):
        return value
    return _NOT


def _p_int(low: int, high: int) -> Any:
    def check(value: object) -> object:
        return value if type(value) is int and low <= value <= high else _NOT

    return check


def _p_bool(value: object) -> object:
    return value if type(value) is bool else _NOT


def _p_money(value: object) -> object:
    if type(value) is not dict or value.keys() != {"amount", "currency"}:
        return _NOT
    currency = value["currency"]
    if _p_amount(value["amount"]) is _NOT or type(currency) is not str:
        return _NOT
    if not _CURRENCY.fullmatch(currency):
        return _NOT
    return {"amount": value["amount"], "currency": currency}


_REQUIRED = object()
PlainSpec = dict[str, tuple[Any, Any]]  # field -> (checker, default: _REQUIRED, None or a value)


def _plain_fields(value: object, spec: dict[str, tuple[Any, Any]]) -> dict[str, Any] | None:
    """A dict of exactly these fields, normalised as the model dumps it (None: not plain)."""
    if type(value) is not dict or not spec.keys() >= value.keys():
        return None
    out: dict[str, Any] = {}
    for name, (check, default) in spec.items():
        given = value.get(name, _REQUIRED)
        if given is _REQUIRED:  # absent
            if default is _REQUIRED:
                return None
            if default is not None:
                out[name] = default
            continue
        if given is None:
            # null: left out when the field may be null, an error (the models say so) if not.
            if default is not None:
                return None
            continue
        checked = check(given)
        if checked is _NOT:
            return None
        out[name] = checked
    return out


def _field_parts(info: FieldInfo) -> tuple[Any, list[Any]]:
    """A field's type without `| None` and `Annotated`, and every constraint on it."""
    annotation, metadata = info.annotation, list(info.metadata)
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        for item in extra:
            metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, metadata


def _plain_checker(annotation: Any, metadata: list[Any]) -> Any:
    """The plain-path checker of a field the models declare (read from its declaration)."""
    limits = {type(m).__name__: m for m in metadata}
    validators = {getattr(m, "func", None) for m in metadata}
    if get_origin(annotation) is Literal:
        return _p_choice(frozenset(get_args(annotation)))
    if annotation is str:
        if _amount in validators:
            return _p_amount
        if _nonblank in validators:
            assert limits["MaxLen"].max_length == 128
            return _p_ident
        return _p_str(limits["MaxLen"].max_length)
    if annotation is int:
        return _p_int(limits["Ge"].ge, limits["Le"].le)
    if annotation is bool:
        return _p_bool
    if annotation is AwareDatetime:
        return _p_instant
    if annotation is MoneyData:
        return _p_money
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return _p_list(_plain_spec(item), limits["MaxLen"].max_length)
    raise TypeError(f"no plain-path checker for {annotation!r}")


def _plain_spec(model: type[BaseModel]) -> PlainSpec:
    """Each field of a model with its plain-path checker and its default."""
    return {
        name: (
            _plain_checker(*_field_parts(info)),
            _REQUIRED if info.is_required() else info.default,
        )
        for name, info in model.model_fields.items()
    }


def _p_list(spec: PlainSpec, limit: int) -> Any:
    def check(value: object) -> object:
        if type(value) is not list or len(value) > limit:
            return _NOT
        items = []
        for item in value:
            plain = _plain_fields(item, spec)
            if plain is None:
                return _NOT
            items.append(plain)
        return items

    return check


# Generated from the models above: a new event type or field needs no second declaration.
_PLAIN_DATA: dict[str, PlainSpec] = {kind: _plain_spec(m) for kind, m in DATA_SCHEMAS.items()}
_ITEM_FIELDS = _plain_spec(ItemData)


def _plain_event(
    raw: dict[str, Any], marketplaces: Mapping[str, MarketplaceInfo]
) -> ValidEvent | None:
    """The ValidEvent of a plain event, exactly as the models give it; None if not plain (a
    NUL character in the data too: the models name its field)."""
    if raw.keys() != _ENVELOPE_KEYS:
        return None
    event_id, kind, market_code = raw["id"], raw["type"], raw["marketplace"]
    seller, order = raw["seller"], raw["order"]
    spec = _PLAIN_DATA.get(kind) if type(kind) is str else None
    market = marketplaces.get(market_code) if type(market_code) is str else None
    if (
        spec is None
        or market is None
        or len(market_code) > 16
        or type(event_id) is not str
        or type(seller) is not str
        or type(order) is not str
        or not _PRINTABLE.fullmatch(event_id)
        or not _PRINTABLE_64.fullmatch(seller)
        or not _PRINTABLE_64.fullmatch(order)
        or (market.external and kind in EXTERNAL_SCHEMAS)
    ):
        return None
    occurred = _plain_instant(raw["occurred_at"])
    data = _plain_fields(raw["data"], spec)
    if occurred is None or data is None:
        return None
    if kind == "order.placed" and data["total"]["currency"] != market.currency:
        return None
    return _normalised(event_id, kind, occurred, market_code, seller, order, data)


def event_validate(
    raw: object, marketplaces: Mapping[str, MarketplaceInfo]
) -> ValidEvent | list[FieldError]:
    """Validate one raw event; a ValidEvent, or the errors naming each bad field."""
    if not isinstance(raw, dict):
        return [FieldError("event", "must be a JSON object")]
    plain = _plain_event(raw, marketplaces)
    return plain if plain is not None else model_validate_event(raw, marketplaces)


def model_validate_event(
    raw: dict[str, Any], marketplaces: Mapping[str, MarketplaceInfo]
) -> ValidEvent | list[FieldError]:
    """`event_validate` through the models alone (what the plain path must agree with)."""
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
    if market is not None and market.external and schema is not None:
        schema = EXTERNAL_SCHEMAS.get(envelope.type, schema)
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
    dumped = data.model_dump(mode="json", exclude_none=True)
    nul = nul_fields(dumped, "data")
    if nul:
        return [FieldError(field, NUL_MESSAGE) for field in nul]
    checked = _normalised(
        envelope.id,
        envelope.type,
        envelope.occurred_at,
        envelope.marketplace,
        envelope.seller,
        envelope.order,
        dumped,
    )
    assert checked is not None  # no NUL: looked for above
    return checked


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
