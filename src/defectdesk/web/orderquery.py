"""The order list's search, filters and sort, parsed from the query string."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from defectdesk.defects.models import Defect
from defectdesk.defects.selectors import orders_matching
from defectdesk.ledger.models import Order

SORTS: dict[str, tuple[str, ...]] = {
    "-placed": ("-placed_at", "-id"),
    "placed": ("placed_at", "id"),
    "-total": ("-total_amount", "-id"),
    "total": ("total_amount", "id"),
    "order": ("order_ref", "id"),
    "-order": ("-order_ref", "-id"),
    "ship_by": ("ship_by", "id"),
}
MAX_QUERY = 128
KINDS = tuple(Defect.Kind.values)
STATUSES = tuple(Order.Status.values)
FULFILMENTS = ("merchant", "marketplace")


@dataclass
class OrderFilters:
    q: str = ""
    problem: bool = False
    kinds: list[str] = field(default_factory=list)
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    fulfillment: str = ""
    sort: str = "-placed"
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(
            self.q
            or self.problem
            or self.kinds
            or self.status
            or self.date_from
            or self.date_to
            or self.fulfillment
        )


def _day(params: QueryDict, name: str, errors: dict[str, str]) -> date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("“%(value)s” is not a date; use YYYY-MM-DD.") % {"value": raw[:40]}
        return None


def filters_parse(params: QueryDict) -> OrderFilters:
    """The filters in the query string; a bad value is ignored and named in `errors`."""
    errors: dict[str, str] = {}
    q = params.get("q", "").strip()
    if len(q) > MAX_QUERY:
        errors["q"] = _("The search is too long (at most %(n)d characters).") % {"n": MAX_QUERY}
        q = q[:MAX_QUERY]
    kinds = [k for k in params.getlist("kind") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        errors["kind"] = _("Unknown defect kind: %(kinds)s.") % {"kinds": ", ".join(unknown)[:80]}
    status = params.get("status", "")
    if status and status not in STATUSES:
        errors["status"] = _("Unknown status.")
        status = ""
    fulfillment = params.get("fulfillment", "")
    if fulfillment and fulfillment not in FULFILMENTS:
        errors["fulfillment"] = _("Unknown fulfilment channel.")
        fulfillment = ""
    sort = params.get("sort", "-placed")
    if sort not in SORTS:
        sort = "-placed"
    date_from, date_to = _day(params, "from", errors), _day(params, "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = _("The end date is before the start date.")
    return OrderFilters(
        q=q,
        problem=params.get("problem") in ("1", "true", "on"),
        kinds=[k for k in kinds if k in KINDS],
        status=status,
        date_from=date_from,
        date_to=date_to,
        fulfillment=fulfillment,
        sort=sort,
        errors=errors,
    )


def filters_apply(
    orders: QuerySet[Order], f: OrderFilters, seller_id: int | None = None
) -> QuerySet[Order]:
    """Narrow an already visible set of orders by the filters, in the chosen order."""
    orders = orders_matching(orders, q=f.q, problem=f.problem, kinds=f.kinds, seller_id=seller_id)
    if f.status:
        orders = orders.filter(status=f.status)
    if f.fulfillment:
        orders = orders.filter(fulfillment=f.fulfillment)
    if f.date_from:
        orders = orders.filter(order_date__gte=f.date_from)
    if f.date_to:
        orders = orders.filter(order_date__lte=f.date_to)
    return orders.order_by(*SORTS[f.sort])
