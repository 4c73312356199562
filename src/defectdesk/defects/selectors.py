"""Reads of defects that encode who may see them."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from defectdesk.accounts.roles import Who, principal_of
from defectdesk.core.errors import one_or_not_found
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Order


def defects_visible_to(who: Who) -> QuerySet[Defect]:
    """Defects that have happened (a deadline-based one opens when its deadline passes)."""
    qs = Defect.objects.select_related("order", "marketplace", "seller").filter(
        opened_at__lte=timezone.now()
    )
    return principal_of(who).seller_scoped(qs)


def orders_matching(
    orders: QuerySet[Order],
    *,
    q: str = "",
    problem: bool = False,
    kinds: Sequence[str] = (),
    seller_id: int | None = None,
) -> QuerySet[Order]:
    """Narrow visible orders by a search and their problems (the API and the order list alike).

    The search matches the start of the order id, or a buyer, tracking number or SKU. A defect
    dated in the future (a deliver-by not yet passed) does not count yet, so it does not make a
    problem order; one dated now counts only after this instant, as in the metrics (DESIGN §4).
    """
    if q:
        orders = orders.filter(
            Q(order_ref__startswith=q) | Q(buyer=q) | Q(tracking_number=q) | Q(skus__icontains=q)
        )
    if problem or kinds:
        now = timezone.now()
        orders = orders.filter(problem_since__lt=now)
        if kinds:
            defects = Defect.objects.filter(
                order_id=OuterRef("pk"),
                status=Defect.Status.ACTIVE,
                opened_at__lt=now,
                kind__in=list(kinds),
            )
            if seller_id is not None:
                defects = defects.filter(seller_id=seller_id)
            orders = orders.filter(Exists(defects))
    return orders


def defect_for(who: Who, defect_id: int) -> Defect:
    """One visible defect; unknown and foreign ones are both NotFound (404)."""
    return one_or_not_found(defects_visible_to(who), defect_id, f"Defect {defect_id} not found.")
