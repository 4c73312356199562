"""Amazon's documents read into ledger events (pure: no ORM).

Columns are found by their header name (any order; Amazon adds, drops and translates
columns), both status spellings and both channel vocabularies are read, and every event id is
derived from what the document says, so that reading the same or an overlapping document again
gives the same events. An id whose body can change (a feedback the buyer edits) carries a
version. Facts Amazon does not give are left out of the events, never guessed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from defectdesk.core.timeutil import iso_text
from defectdesk.mirror.profile import AmazonSite

ORDER_ID = re.compile(r"^[0-9]{3}-[0-9]{7}-[0-9]{7}$")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CSV_FIELD_LIMIT = 1 << 20


class DocumentError(Exception):
    """The document as a whole cannot be read as the report type it was given as."""


@dataclass(frozen=True, slots=True)
class ReportKind:
    """One Amazon document type: what it is called, how to read it, whether it applies."""

    code: str
    label: str
    reader: str  # "orders", "feedback", "returns", "fba_returns", "finances", "health", "none"
    why_not: str = ""  # for documents that are kept but give the ledger nothing


REPORT_KINDS: dict[str, ReportKind] = {
    k.code: k
    for k in (
        ReportKind(
            "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
            "All orders (by last update)",
            "orders",
        ),
        ReportKind(
            "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
            "All orders (by order date)",
            "orders",
        ),
        ReportKind("GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE", "Archived orders", "orders"),
        ReportKind("GET_SELLER_FEEDBACK_DATA", "Seller feedback", "feedback"),
        ReportKind("GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", "Returns", "returns"),
        ReportKind(
            "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA", "FBA customer returns", "fba_returns"
        ),
        ReportKind(
            "LIST_FINANCIAL_EVENTS", "Financial events (refunds, claims, chargebacks)", "finances"
        ),
        ReportKind(
            "GET_V2_SELLER_PERFORMANCE_REPORT", "Account health (V2 performance report)", "health"
        ),
        ReportKind(
            "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL",
            "Amazon-fulfilled shipments",
            "none",
            "Amazon ships these orders itself: none of the seller-fulfilled metrics (late "
            "shipment, valid tracking, on-time delivery) counts them, so the report adds "
            "nothing to your account health.",
        ),
        ReportKind(
            "ORDER_CHANGE_NOTIFICATION",
            "Order change notification",
            "none",
            "A notification about one order's change (such as a buyer's cancellation request), "
            "not a report: the change reaches your data through the next all-orders report.",
        ),
    )
}
# Spellings people use for the same documents.
REPORT_ALIASES = {
    "ListFinancialEvents": "LIST_FINANCIAL_EVENTS",
    "listFinancialEvents": "LIST_FINANCIAL_EVENTS",
    "accountHealthReport": "GET_V2_SELLER_PERFORMANCE_REPORT",
    "OrderChangeNotification": "ORDER_CHANGE_NOTIFICATION",
}


def report_kind(code: str) -> ReportKind:
    """The kind of a report type name; DocumentError naming the known ones otherwise."""
    found = REPORT_KINDS.get(REPORT_ALIASES.get(code.strip(), code.strip()))
    if found is None:
        raise DocumentError(
            f"unknown Amazon report type {code[:80]!r}; expected one of "
            + ", ".join(sorted(REPORT_KINDS))
        )
    return found


@dataclass
class Parsed:
    """What one document gives: events, rows refused (with their line), rows skipped."""

    events: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[tuple[int, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    window: tuple[date, date] | None = None
    # Feedback reports: every feedback id the document lists.
    feedback_ids: set[str] = field(default_factory=set)
    snapshot: dict[str, Any] | None = None
    not_applicable: str = ""
    seller_ids: set[str] = field(default_factory=set)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def order_of(self, line: int, row: dict[str, str], col: dict[str, str]) -> str | None:
        """A report row's Amazon order id; None, the row counted as skipped or refused, when
        it repeats the header or its order id is not Amazon's."""
        if _is_header_repeat(row):
            self.skip("rows repeating the header")
            return None
        ref = row[col["order_id"]]
        if not ORDER_ID.match(ref):
            self.rejects.append(
                (line, f"{col['order_id']}: {ref[:40]!r} is not an Amazon order id (3-7-7 digits)")
            )
            return None
        return ref

    def order_rows(
        self, rows: Iterable[tuple[int, dict[str, str]]], col: dict[str, str]
    ) -> Iterator[tuple[int, dict[str, str], str]]:
        """The rows that name an Amazon order, each with its id; the others are counted as
        skipped or refused."""
        for line, row in rows:
            ref = self.order_of(line, row, col)
            if ref is not None:
                yield line, row, ref

    def window_from(self, days: list[date]) -> None:
        """The document covers the first to the last of these days (none: no window)."""
        if days:
            self.window = (min(days), max(days))


# -- bytes to rows -------------------------------------------------------------------------


def document_decode(content: bytes, site: AmazonSite, encoding: str = "") -> tuple[str, str]:
    """The text of a document and the encoding it was read with.

    A byte-order mark decides; else UTF-8 when the bytes are valid UTF-8; else the site's
    legacy encoding (Shift-JIS as Windows writes it, cp932, for Japan; ISO-8859-1 elsewhere).
    """
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", "replace"), "utf-8-sig"
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), "utf-16"
    tries = [encoding] if encoding else []
    tries += ["utf-8", "cp932" if site.date_order == "ymd" else "iso-8859-1"]
    for name in tries:
        try:
            return content.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    return content.decode("iso-8859-1"), "iso-8859-1"


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower()).strip("-")


def table_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header (normalised names) and (line number, row by normalised name) of a TSV or
    CSV text, with Windows or Unix line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    first = text.split("\n", 1)[0]
    if not first.strip():
        raise DocumentError("the file is empty or its first line is blank: no header row")
    tabbed = "\t" in first
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = (
        csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
        if tabbed
        else csv.reader(io.StringIO(text))
    )
    try:
        header = [_norm(h) for h in next(reader)]
    except csv.Error as exc:
        raise DocumentError(f"the header row cannot be read: {exc}") from None

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        line = 1
        for values in reader:
            line += 1
            if not any(v.strip() for v in values):
                continue
            yield (
                line,
                {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)},
            )

    return header, rows()


def json_records(text: str) -> list[Any]:
    """A JSON document, a JSON array, or JSON lines; each Airbyte record unwrapped to its data."""
    text = text.strip()
    if not text:
        raise DocumentError("the file is empty")
    try:
        loaded = orjson.loads(text)
        items = loaded if isinstance(loaded, list) else [loaded]
    except orjson.JSONDecodeError:
        items = []
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                items.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise DocumentError(f"line {n} is not JSON: {exc}") from None
    return [
        item["data"] if isinstance(item, dict) and "stream" in item and "data" in item else item
        for item in items
    ]


# Known header names, also as Amazon writes them in other languages.
ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": (
        "amazon-order-id",
        "order-id",
        "注文番号",
        "bestellnummer",
        "numéro-de-commande",
        "número-de-pedido",
        "numero-ordine",
        "订单编号",
    ),
    "purchase_date": ("purchase-date", "購入日", "kaufdatum", "date-d'achat", "fecha-de-compra"),
    "last_updated": ("last-updated-date", "最終更新日", "letzte-aktualisierung"),
    "order_status": ("order-status", "注文ステータス", "bestellstatus", "statut-de-la-commande"),
    "channel": ("fulfillment-channel", "フルフィルメント・チャネル", "versandkanal"),
    "sales_channel": ("sales-channel", "販売チャネル", "verkaufskanal"),
    "sku": ("sku", "merchant-sku", "出品者sku"),
    "product": ("product-name", "item-name", "商品名", "produktname"),
    "quantity": ("quantity", "数量", "menge"),
    "currency": ("currency", "currency-code", "通貨", "währung"),
    "item_price": ("item-price", "商品価格", "artikelpreis"),
    "date": ("date", "日付", "datum", "fecha", "data"),
    "rating": ("rating", "評価", "bewertung", "note", "valutazione", "puntuación"),
    "comments": ("comments", "コメント", "kommentare", "commentaires", "comentarios", "commenti"),
    "response": ("your-response", "あなたの返信", "ihre-antwort", "votre-réponse"),
    "rater_email": ("rater-email", "評価者のeメール", "e-mail-des-bewerters"),
    "return_date": ("return-request-date", "return-date", "返品リクエスト日"),
    "return_reason": ("return-reason", "reason", "返品理由"),
    "a_to_z": ("a-to-z-claim", "a-to-zギャランティ申請"),
    "refunded": ("refunded-amount", "返金額"),
}
REQUIRED = {
    "orders": ("order_id", "purchase_date", "order_status", "channel"),
    "feedback": ("date", "rating", "order_id"),
    "returns": ("order_id", "return_date"),
    "fba_returns": ("order_id", "return_date"),
}


def _columns(header: list[str], reader: str) -> dict[str, str]:
    """Our name -> the header's name, for the columns present; DocumentError naming the
    missing required ones."""
    present = set(header)
    found = {}
    for ours, names in ALIASES.items():
        for name in names:
            if name in present:
                found[ours] = name
                break
    missing = [m for m in REQUIRED.get(reader, ()) if m not in found]
    if missing:
        raise DocumentError(
            "the header has no "
            + ", ".join(f"{ALIASES[m][0]!r}" for m in missing)
            + " column (found: "
            + ", ".join(header[:40])
            + "); is this the right report type?"
        )
    return found


def _is_header_repeat(row: Mapping[str, str]) -> bool:
    same = sum(1 for name, value in row.items() if value and _norm(value) == name)
    return same >= max(2, len(row) // 2)


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _instant(value: str, tz: ZoneInfo) -> datetime | None:
    """An instant from Amazon's ISO-8601 times; None when it has no offset or is not a time."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


def _day(value: str, order: str) -> date | None:
    """A calendar day as Amazon's reports write it: ISO, or numeric in the site's order
    (month/day/year in the US), or with a month name; a time after it is ignored."""
    value = value.strip()
    if not value:
        return None
    iso = re.match(r"^(\d{4})-(\d\d)-(\d\d)", value)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        named = re.match(r"^(\d{1,2})[- ]([A-Za-z]{3})[a-z]*[- ,]+(\d{2,4})", value)
        if named and named[2].lower() in MONTHS:
            year = int(named[3]) + (2000 if len(named[3]) == 2 else 0)
            return date(year, MONTHS[named[2].lower()], int(named[1]))
        named = re.match(r"^([A-Za-z]{3})[a-z]* (\d{1,2}),? (\d{4})", value)
        if named and named[1].lower() in MONTHS:
            return date(int(named[3]), MONTHS[named[1].lower()], int(named[2]))
        parts = re.match(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})", value)
        if not parts:
            return None
        a, b, c = (int(parts[i]) for i in (1, 2, 3))
        if len(parts[1]) == 4 or order == "ymd":
            year, month, day = a, b, c
        elif order == "dmy":
            day, month, year = a, b, c
        else:
            month, day, year = a, b, c
        if year < 100:
            year += 2000
        return date(year, month, day)
    except ValueError:
        return None


def _amount(value: str) -> Decimal | None:
    value = value.strip().replace(",", "") if value.count(",") and "." in value else value.strip()
    value = value.replace(",", ".")
    if not value:
        return Decimal(0)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    # The ledger takes at most 15 digits before the point.
    return amount if amount.is_finite() and abs(amount) < Decimal(10) ** 15 else None


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):f}"


def _envelope(
    event_id: str,
    kind: str,
    at: datetime,
    site: AmazonSite,
    seller: str,
    order: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": kind,
        "occurred_at": iso_text(at.astimezone(UTC)),
        "marketplace": site.code,
        "seller": seller,
        "order": order,
        "data": data,
    }


def _settled_case(
    where: tuple[datetime, AmazonSite, str, str],
    *,
    case: dict[str, Any],
    amount: Decimal,
    detail: str,
    filed: tuple[str, str],
    decided: tuple[str, str],
    outcome: str,
) -> list[dict[str, Any]]:
    """A claim or chargeback the finances show already settled against the seller: its filing
    (with the amount debited, when there is one) and its decision, both at the posting time.
    `where` is (posted, site, seller, order); `filed` and `decided` are (event id, type)."""
    posted, site, seller, ref = where
    filing = {**case, "reason": "other", "detail": detail}
    if amount:
        filing["amount"] = _money(amount)
    return [
        _envelope(*filed, posted, site, seller, ref, filing),
        _envelope(*decided, posted, site, seller, ref, {**case, "outcome": outcome}),
    ]


CANCELLED = {"cancelled", "canceled", "storniert", "キャンセル", "annulée", "cancelado"}
PENDING = {"pending", "保留中", "ausstehend"}
CHANNELS = {
    "merchant": "merchant",
    "mfn": "merchant",
    "seller": "merchant",
    "amazon": "marketplace",
    "afn": "marketplace",
}


# -- the readers ---------------------------------------------------------------------------


def _order_item(row: dict[str, str], col: dict[str, str], price: Decimal) -> dict[str, Any]:
    """One line of an order: its SKU, title and quantity when given, and its price."""
    item: dict[str, Any] = {"sku": row.get(col.get("sku", ""), "")[:64] or "-"}
    title = row.get(col.get("product", ""), "")
    if title:
        item["title"] = title[:500]
    quantity = row.get(col.get("quantity", ""), "")
    if quantity.isdigit() and 1 <= int(quantity) <= 100_000:
        item["quantity"] = int(quantity)
    item["price"] = _money(price)
    return item


def _orders_events(
    orders: dict[str, dict[str, Any]], site: AmazonSite, seller: str, out: Parsed
) -> None:
    """The events of the orders the rows gathered: each placed, and cancelled if Amazon says so;
    a pending order is left out (its prices are not final)."""
    for ref, entry in orders.items():
        if entry["status"] in PENDING:
            out.skip("pending orders (Amazon gives their prices once they are confirmed)")
            continue
        data = {
            "fulfillment": entry["fulfillment"],
            "total": {"amount": _money(entry["total"]), "currency": entry["currency"]},
            "items": entry["items"][:1000],
            "source": "amazon:orders",
        }
        out.events.append(
            _envelope(f"amz-{ref}-placed", "order.placed", entry["placed"], site, seller, ref, data)
        )
        if entry["status"] in CANCELLED:
            at = entry["updated"] or entry["placed"]
            out.events.append(
                _envelope(
                    f"amz-{ref}-cancelled",
                    "order.cancelled",
                    max(at, entry["placed"]),
                    site,
                    seller,
                    ref,
                    {
                        "reason": (
                            "Cancelled in Amazon's order report (who cancelled is not reported)"
                        ),
                        "source": "amazon:orders",
                    },
                )
            )


def orders_read(
    rows: Iterable[tuple[int, dict[str, str]]], header: list[str], site: AmazonSite, seller: str
) -> Parsed:
    """The all-orders (or archived orders) flat file: `order.placed`, and `order.cancelled`
    for cancelled orders. No buyer, ship-by, deliver-by or canceller: left unknown."""
    col = _columns(header, "orders")
    tz = ZoneInfo(site.timezone)
    out = Parsed()
    orders: dict[str, dict[str, Any]] = {}
    days: list[date] = []
    for line, row, ref in out.order_rows(rows, col):
        channel_name = row.get(col.get("sales_channel", ""), "")
        if channel_name and channel_name.lower() != site.sales_channel.lower():
            if channel_name.lower().startswith("amazon."):
                out.rejects.append(
                    (line, f"order {ref} was sold on {channel_name[:40]}, not {site.sales_channel}")
                )
            else:
                out.skip(f"orders of another sales channel ({channel_name[:40]})")
            continue
        placed = _instant(row[col["purchase_date"]], tz)
        if placed is None:
            out.rejects.append(
                (
                    line,
                    f"{col['purchase_date']}: {row[col['purchase_date']][:40]!r} is not a time "
                    "with a UTC offset",
                )
            )
            continue
        fulfilment = CHANNELS.get(row[col["channel"]].strip().lower())
        if fulfilment is None:
            out.rejects.append(
                (
                    line,
                    f"{col['channel']}: {row[col['channel']][:40]!r} is neither Merchant/MFN "
                    "nor Amazon/AFN",
                )
            )
            continue
        status = row[col["order_status"]].strip().lower()
        price = _amount(row.get(col.get("item_price", ""), ""))
        if price is None or price < 0:
            out.rejects.append(
                (
                    line,
                    f"item-price: {row.get(col.get('item_price', ''), '')[:40]!r} is not an amount",
                )
            )
            continue
        currency = row.get(col.get("currency", ""), "") or site.currency
        entry = orders.setdefault(
            ref,
            {
                "placed": placed,
                "fulfillment": fulfilment,
                "status": status,
                "currency": currency,
                "total": Decimal(0),
                "items": [],
                "updated": _instant(row.get(col.get("last_updated", ""), ""), tz),
                "line": line,
            },
        )
        entry["total"] += price
        entry["items"].append(_order_item(row, col, price))
        days.append(placed.astimezone(tz).date())
    _orders_events(orders, site, seller, out)
    out.window_from(days)
    return out


def feedback_read(
    rows: Iterable[tuple[int, dict[str, str]]], header: list[str], site: AmazonSite, seller: str
) -> Parsed:
    """The seller feedback report (1-3 stars only, a day without a time, no feedback id):
    one `feedback.posted` per row. The rater's e-mail is dropped."""
    col = _columns(header, "feedback")
    tz = ZoneInfo(site.timezone)
    out = Parsed()
    days: list[date] = []
    for line, row, ref in out.order_rows(rows, col):
        day = _day(row[col["date"]], site.date_order)
        if day is None:
            out.rejects.append((line, f"{col['date']}: {row[col['date']][:40]!r} is not a date"))
            continue
        rating_text = row[col["rating"]].strip()
        if not rating_text.isdigit() or not 1 <= int(rating_text) <= 5:
            out.rejects.append(
                (line, f"{col['rating']}: {rating_text[:40]!r} is not a rating from 1 to 5")
            )
            continue
        rating = int(rating_text)
        comment = row.get(col.get("comments", ""), "")[:10_000]
        feedback_id = f"amz-fb-{ref}"
        data: dict[str, Any] = {
            "feedback_id": feedback_id,
            "rating": rating,
            "source": "amazon:feedback",
        }
        if comment:
            data["comment"] = comment
        response = row.get(col.get("response", ""), "")
        if response:
            data["response"] = response[:10_000]
        # A day without a time: the start of that day in the marketplace's zone.
        at = datetime.combine(day, time.min, tzinfo=tz)
        version = _short(f"{day.isoformat()}|{rating}|{comment}")
        out.events.append(
            _envelope(f"amz-fb-{ref}-{version}", "feedback.posted", at, site, seller, ref, data)
        )
        out.feedback_ids.add(feedback_id)
        days.append(day)
    out.window_from(days)
    return out


def returns_read(
    rows: Iterable[tuple[int, dict[str, str]]],
    header: list[str],
    site: AmazonSite,
    seller: str,
    *,
    fba: bool,
) -> Parsed:
    """The returns report: `return.requested` (FBA: `return.received`) per return, and an
    A-to-z claim where Amazon flags one (its reason and outcome are not reported)."""
    col = _columns(header, "fba_returns" if fba else "returns")
    tz = ZoneInfo(site.timezone)
    out = Parsed()
    days: list[date] = []
    for line, row, ref in out.order_rows(rows, col):
        raw_day = row[col["return_date"]]
        moment = _instant(raw_day, tz)
        day = moment.astimezone(tz).date() if moment else _day(raw_day, site.date_order)
        if day is None:
            out.rejects.append((line, f"{col['return_date']}: {raw_day[:40]!r} is not a date"))
            continue
        at = moment or datetime.combine(day, time.min, tzinfo=tz)
        reason = row.get(col.get("return_reason", ""), "")[:500]
        kind = "return.received" if fba else "return.requested"
        data: dict[str, Any] = {"source": "amazon:returns"}
        if reason:
            data["reason"] = reason
        key = _short(f"{day.isoformat()}|{row.get(col.get('sku', ''), '')}|{reason}")
        out.events.append(_envelope(f"amz-{ref}-return-{key}", kind, at, site, seller, ref, data))
        if not fba and row.get(col.get("a_to_z", ""), "").strip().upper() in ("Y", "YES", "TRUE"):
            out.events.append(
                _envelope(
                    f"amz-{ref}-claim-returns",
                    "claim.filed",
                    at,
                    site,
                    seller,
                    ref,
                    {
                        "claim_id": f"amz-atoz-{ref}",
                        "reason": "other",
                        "source": "amazon:returns",
                        "detail": "flagged as an A-to-z claim in Amazon's returns report",
                    },
                )
            )
        days.append(day)
    out.window_from(days)
    return out


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _charges(event: dict[str, Any]) -> Decimal:
    """The sum of an event's item charge adjustments (negative for money back to the buyer)."""
    total = Decimal(0)
    for item in event.get("shipmentitemadjustmentlist") or event.get("shipmentitemlist") or []:
        for charge in item.get("itemchargeadjustmentlist") or item.get("itemchargelist") or []:
            money = charge.get("chargeamount") or {}
            amount = money.get("currencyamount")
            if isinstance(amount, int | float | str) and not isinstance(amount, bool):
                try:
                    value = Decimal(str(amount))
                except InvalidOperation:
                    continue
                if value.is_finite():
                    total += value
    return total


FINANCE_NAMES = {
    "refundeventlist": "RefundEventList",
    "guaranteeclaimeventlist": "GuaranteeClaimEventList",
    "chargebackeventlist": "ChargebackEventList",
}
FINANCE_LISTS = {
    "refundeventlist": "refund",
    "guaranteeclaimeventlist": "claim",
    "chargebackeventlist": "chargeback",
}


def _finance_checked(
    event: Any, where: str, site: AmazonSite
) -> tuple[str, datetime, Decimal] | str:
    """A financial event's order id, posting time and amount debited; or why it is refused."""
    if not isinstance(event, dict):
        return f"{where}: is not an object"
    ref = str(event.get("amazonorderid") or "")
    if not ORDER_ID.match(ref):
        return f"{where}: AmazonOrderId {ref[:40]!r} is not an Amazon order id (3-7-7 digits)"
    market_name = str(event.get("marketplacename") or "")
    if (
        market_name.lower().startswith("amazon.")
        and market_name.lower() != site.sales_channel.lower()
    ):
        return f"{where}: order {ref} is of {market_name[:40]}, not {site.sales_channel}"
    posted = _instant(str(event.get("posteddate") or ""), ZoneInfo(site.timezone))
    if posted is None:
        return (
            f"{where}: PostedDate {str(event.get('posteddate'))[:40]!r} is not a "
            "time with a UTC offset"
        )
    amount = abs(_charges(event))
    if amount >= Decimal(10) ** 15:
        return f"{where}: an amount of {amount:.3e} is not believable"
    return ref, posted, amount


def _finance_events(
    kind: str,
    event: dict[str, Any],
    checked: tuple[str, datetime, Decimal],
    site: AmazonSite,
    seller: str,
) -> list[dict[str, Any]]:
    """The ledger events of a checked financial event of this kind (refund, claim, chargeback)."""
    ref, posted, amount = checked
    stamp = posted.strftime("%Y%m%dT%H%M%S")
    common = {"source": "amazon:finances"}
    if kind == "refund":
        key = _short(orjson.dumps(event, option=orjson.OPT_SORT_KEYS).decode())
        return [
            _envelope(
                f"amz-{ref}-refund-{stamp}-{key}",
                "refund.issued",
                posted,
                site,
                seller,
                ref,
                {
                    "amount": _money(amount),
                    "reason": "Refund posted in Amazon's finances",
                    **common,
                },
            )
        ]
    if kind == "claim":
        return _settled_case(
            (posted, site, seller, ref),
            case={"claim_id": f"amz-atoz-{ref}", **common},
            amount=amount,
            detail="granted and debited to the seller",
            filed=(f"amz-{ref}-claim-finances", "claim.filed"),
            decided=(f"amz-{ref}-claim-granted-{stamp}", "claim.decided"),
            outcome="granted_seller_funded",
        )
    return _settled_case(
        (posted, site, seller, ref),
        case={"chargeback_id": f"amz-cb-{ref}-{stamp}", **common},
        amount=amount,
        detail="lost and debited to the seller",
        filed=(f"amz-{ref}-chargeback-{stamp}", "chargeback.filed"),
        decided=(f"amz-{ref}-chargeback-lost-{stamp}", "chargeback.decided"),
        outcome="lost",
    )


def _finance_event(
    out: Parsed, n: int, where: str, event: Any, kind: str, site: AmazonSite, seller: str
) -> date | None:
    """Check one financial event of record `n` and add the events it gives to `out`: the day
    it was posted in the marketplace's zone, None when it was refused or skipped."""
    checked = _finance_checked(event, where, site)
    if isinstance(checked, str):
        out.rejects.append((n, checked))
        return None
    _ref, posted, amount = checked
    if kind == "refund" and amount == 0:
        out.skip("refund events without an amount")
        return None
    out.events.extend(_finance_events(kind, event, checked, site, seller))
    return posted.astimezone(ZoneInfo(site.timezone)).date()


def _financial_lists(n: int, record: Any) -> dict[str, Any]:
    """The event lists of record `n` of a ListFinancialEvents answer, by lower-case name."""
    low = _lower_keys(record)
    if not isinstance(low, dict):
        raise DocumentError(f"record {n} is not a JSON object")
    found = low.get("payload", low)
    found = found.get("financialevents", found) if isinstance(found, dict) else found
    if not isinstance(found, dict) or not any(k.endswith("eventlist") for k in found):
        raise DocumentError(
            f"record {n} has no financial event lists (RefundEventList, "
            "GuaranteeClaimEventList, ChargebackEventList); is this a ListFinancialEvents page?"
        )
    return found


def finances_read(records: list[Any], site: AmazonSite, seller: str) -> Parsed:
    """Financial events: refunds (`refund.issued`), granted seller-funded A-to-z claims
    (`claim.filed` + `claim.decided`), lost chargebacks (`chargeback.filed` + `.decided`)."""
    out = Parsed()
    days: list[date] = []
    for n, record in enumerate(records, start=1):
        for list_name, items in _financial_lists(n, record).items():
            if not list_name.endswith("eventlist") or not isinstance(items, list):
                continue
            kind = FINANCE_LISTS.get(list_name)
            if kind is None:
                for _ in items:
                    out.skip(
                        "financial events that are not about an order's defects (fees, ads, ...)"
                    )
                continue
            for index, event in enumerate(items):
                where = f"record {n} {FINANCE_NAMES[list_name]} #{index + 1}"
                day = _finance_event(out, n, where, event, kind, site, seller)
                if day is not None:
                    days.append(day)
    out.window_from(days)
    return out


def health_read(records: list[Any], site: AmazonSite) -> Parsed:
    """The V2 seller performance report: a snapshot of this marketplace's metrics."""
    if len(records) != 1 or not isinstance(records[0], dict):
        raise DocumentError("the account health report is one JSON object")
    report = records[0]
    metrics = report.get("performanceMetrics")
    if not isinstance(metrics, list):
        raise DocumentError(
            "the report has no performanceMetrics list; is it a V2 seller performance report?"
        )
    mine = [
        m for m in metrics if isinstance(m, dict) and m.get("marketplaceId") == site.marketplace_id
    ]
    if not mine:
        others = sorted({str(m.get("marketplaceId")) for m in metrics if isinstance(m, dict)})
        raise DocumentError(
            f"the report covers marketplaces {', '.join(others) or 'none'}, not "
            f"{site.site} ({site.marketplace_id})"
        )
    statuses = report.get("accountStatuses") or []
    status = next(
        (
            str(s.get("status", ""))
            for s in statuses
            if isinstance(s, dict) and s.get("marketplaceId") == site.marketplace_id
        ),
        "",
    )
    out = Parsed(snapshot={"status": status, "metrics": mine[0]})
    odr = (mine[0].get("orderDefectRate") or {}).get("mfn") or {}
    window = odr.get("reportingDateRange") or {}
    start, end = (
        _day(str(window.get("reportingDateFrom", "")), "ymd"),
        _day(str(window.get("reportingDateTo", "")), "ymd"),
    )
    if start and end:
        out.window = (start, end)
    return out


def seller_ids_in(records: list[Any]) -> set[str]:
    """Amazon selling-partner ids a JSON document names (SellerId anywhere in it)."""
    found: set[str] = set()

    def walk(value: Any, depth: int) -> None:
        if depth > 6:
            return
        if isinstance(value, dict):
            for key, inner in value.items():
                if str(key).lower() in ("sellerid", "selling_partner_id") and isinstance(
                    inner, str
                ):
                    found.add(inner)
                else:
                    walk(inner, depth + 1)
        elif isinstance(value, list):
            for inner in value[:1000]:
                walk(inner, depth + 1)

    walk(records, 0)
    return found


def document_read(kind: ReportKind, text: str, site: AmazonSite, seller: str) -> Parsed:
    """Read a decoded document of this kind; DocumentError when it cannot be read as one."""
    if kind.reader in ("finances", "health", "none") and text.lstrip()[:1] in ("{", "["):
        records = json_records(text)
        if kind.reader == "finances":
            parsed = finances_read(records, site, seller)
        elif kind.reader == "health":
            parsed = health_read(records, site)
        else:
            parsed = Parsed(not_applicable=kind.why_not)
        parsed.seller_ids = seller_ids_in(records)
        return parsed
    if kind.reader in ("finances", "health"):
        raise DocumentError(f"{kind.label} is a JSON document; this file is not JSON")
    if kind.reader == "none":
        return Parsed(not_applicable=kind.why_not)
    rows: Iterator[tuple[int, dict[str, str]]]
    if text.lstrip()[:1] == "{":
        records = json_records(text)
        keys: list[str] = sorted({k for r in records if isinstance(r, dict) for k in r})
        header = [_norm(k) for k in keys]
        rows = (
            (n, {_norm(k): ("" if v is None else str(v)).strip() for k, v in r.items()})
            for n, r in enumerate(records, start=1)
            if isinstance(r, dict)
        )
    else:
        header, rows = table_rows(text)
    if kind.reader == "orders":
        return orders_read(rows, header, site, seller)
    if kind.reader == "feedback":
        return feedback_read(rows, header, site, seller)
    return returns_read(rows, header, site, seller, fba=kind.reader == "fba_returns")


def redact_emails(text: str) -> tuple[str, int]:
    """The text with every e-mail address replaced by a short hash of it (personal data is
    not kept, but the same rater still reads as the same)."""
    count = 0

    def swap(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return "sha256:" + hashlib.sha256(match[0].lower().encode()).hexdigest()[:16]

    return EMAIL.sub(swap, text), count


def window_days(window: tuple[date, date] | None) -> int:
    return 0 if window is None else (window[1] - window[0]).days + 1
