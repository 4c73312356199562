"""The order list's search, filters and sort (parsed by `web.forms.OrderFilterForm`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet

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
