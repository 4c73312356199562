"""The review queue: open appeals, soonest deadline first, with filters, search and counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from defectdesk.accounts.models import Seller, StaffRole
from defectdesk.accounts.roles import Principal
from defectdesk.appeals.models import Appeal
from defectdesk.appeals.reasons import reason_lookup
from defectdesk.appeals.selectors import appeals_visible_to, review_queue
from defectdesk.appeals.transitions import REVIEW_STATUSES, Status
from defectdesk.console.health import SellerHealth, sellers_health
from defectdesk.core.datacache import SHOWS_EVERY_SELLER, cached
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Order
from defectdesk.policy.metrics import percent

# Awaiting a reviewer's decision against the review deadline (not the merchant's answer).
WAITING_ON_REVIEWER = (Status.SUBMITTED, Status.IN_REVIEW)
COUNTS_CACHE_SECONDS = 60
# How many sellers, and orders, a search looks at.
SEARCH_LIMIT = 1000
# The columns a queue line reads (`queue_rows`): every other column of the appeal, its defect
# and order (explanations, frozen evidence, order items, addresses) stays in the database.
ROW_FIELDS = (
    "id",
    "status",
    "reason",
    "info_due_at",
    "review_due_at",
    "recommendations",
    "seller_id",
    "marketplace_id",
    "assigned_to_id",
    "defect_id",
    "defect__id",
    "defect__kind",
    "defect__order_id",
    "defect__order__id",
    "defect__order__order_ref",
    "seller__id",
    "seller__external_id",
    "seller__name",
    "assigned_to__id",
    "assigned_to__username",
)


@dataclass(frozen=True, slots=True)
class QueueFilters:
    status: str = ""
    kind: str = ""
    reason: str = ""
    assigned: str = ""
    overdue: bool = False
    recommended: bool = False
    q: str = ""

    def as_query(self) -> dict[str, str]:
        out = {
            "status": self.status,
            "kind": self.kind,
            "reason": self.reason,
            "assigned": self.assigned,
            "overdue": "1" if self.overdue else "",
            "recommended": "1" if self.recommended else "",
            "q": self.q,
        }
        return {k: v for k, v in out.items() if v}


def queue_base(principal: Principal) -> QuerySet[Appeal]:
    """Open appeals awaiting the marketplace: the reviewers' selector (operators look too)."""
    if principal.is_reviewer:
        return review_queue(principal)
    return (
        appeals_visible_to(principal)
        .filter(status__in=sorted(REVIEW_STATUSES))
        .order_by("review_due_at", "id")
    )


def queue_appeals(
    principal: Principal, filters: QueueFilters, now: datetime, me: AbstractBaseUser | None
) -> QuerySet[Appeal]:
    qs = queue_base(principal)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(defect_kind=filters.kind)
    if filters.reason:
        qs = qs.filter(reason=filters.reason)
    if filters.assigned == "me" and me is not None:
        qs = qs.filter(assigned_to_id=me.pk)
    elif filters.assigned == "unassigned":
        qs = qs.filter(assigned_to__isnull=True)
    elif filters.assigned:
        qs = qs.filter(assigned_to__username=filters.assigned)
    if filters.overdue:
        qs = qs.filter(status__in=WAITING_ON_REVIEWER, review_due_at__lt=now)
    if filters.recommended:
        qs = qs.exclude(recommendations=[])
    if filters.q:
        qs = qs.filter(search_match(filters.q))
    return qs


def _after_prefix(term: str) -> str:
    """The smallest string greater than every string that starts with `term`."""
    return term[:-1] + chr(ord(term[-1]) + 1)


def search_match(term: str) -> Q:
    """An appeal number, a seller's id or name, or the start of an order number.

    Sellers and orders are looked up first on their own indexes (an order number prefix as an
    index range), so the search never scans every open appeal's joined rows.
    """
    sellers = list(
        Seller.objects.filter(Q(external_id__iexact=term) | Q(name__icontains=term)).values_list(
            "pk", flat=True
        )[:SEARCH_LIMIT]
    )
    orders = Order.objects.filter(
        order_ref__gte=term, order_ref__lt=_after_prefix(term), order_ref__startswith=term
    ).values("pk")[:SEARCH_LIMIT]
    defects = list(
        Defect.objects.filter(order_id__in=orders).values_list("pk", flat=True)[: 4 * SEARCH_LIMIT]
    )
    # Plain id lists: the appeals are then found through their own indexes, not by testing
    # every open appeal against two subqueries.
    match = Q(seller_id__in=sellers) | Q(defect_id__in=defects)
    if term.isdigit() and len(term) < 19:
        match |= Q(pk=int(term))
    return match


def queue_counts(
    principal: Principal, now: datetime, me: AbstractBaseUser | None
) -> dict[str, int]:
    """Open, overdue, unassigned and mine, in one aggregate query, kept for a minute under the
    data version (any decision or assignment is audited and so changes the version)."""

    def count() -> dict[str, int]:
        counts = (
            queue_base(principal)
            .order_by()
            .aggregate(
                open=Count("id"),
                overdue=Count(
                    "id", filter=Q(status__in=WAITING_ON_REVIEWER, review_due_at__lt=now)
                ),
                unassigned=Count("id", filter=Q(assigned_to__isnull=True)),
                mine=Count("id", filter=Q(assigned_to_id=me.pk if me is not None else None)),
            )
        )
        return {name: int(value or 0) for name, value in counts.items()}

    # The minute is part of the key: the overdue count grows as deadlines pass.
    shown = (
        int(now.timestamp()) // COUNTS_CACHE_SECONDS,
        principal.is_reviewer,
        me.pk if me is not None else None,
    )
    # Counts over every seller's appeals: under the version of every seller's data.
    return cached("console:queue-counts", SHOWS_EVERY_SELLER, shown, count, COUNTS_CACHE_SECONDS)


class KnownCountPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator told its count (the queue's counts already hold it)."""

    def __init__(self, object_list: QuerySet[Any], per_page: int, count: int | None) -> None:
        super().__init__(object_list, per_page)
        self._rows = object_list
        self._known = count

    @cached_property
    def count(self) -> int:
        if self._known is not None:
            return self._known
        return self._rows.count()


def queue_page(
    appeals: QuerySet[Appeal], page_number: Any, per_page: int, count: int | None
) -> tuple[Any, list[Appeal]]:
    """One page of the queue: the page's ids from the appeals table alone, then their rows.

    Sorting only the narrow appeal rows, and joining defects, orders and sellers for the
    page's rows alone, keeps the queue fast however many appeals are open. The rows carry only
    the columns a line shows (`ROW_FIELDS`): measured on the 1,000,000-order / 10,000-seller
    ledger, fetching the page's 25 rows took 13.6 ms (10.0 ms of CPU) with every column and the
    marketplace joined, 7.2 ms (4.7 ms) so; PostgreSQL's planning alone went from 5.7 to 1.2 ms.
    """
    ids = appeals.values_list("pk", flat=True)
    page = KnownCountPaginator(ids, per_page, count).get_page(page_number)
    wanted = list(page.object_list)
    rows = (
        Appeal.objects.select_related("defect__order", "seller", "assigned_to")
        .only(*ROW_FIELDS)
        .in_bulk(wanted)
    )
    return page, [rows[pk] for pk in wanted if pk in rows]


def time_left(due: datetime | None, now: datetime) -> dict[str, Any]:
    """How long until a deadline, or how long past it, in words a reviewer reads at a glance."""
    if due is None:
        return {"text": _("no deadline"), "overdue": False, "soon": False}
    delta = due - now
    overdue = delta < timedelta(0)
    span = abs(delta)
    hours, rest = divmod(int(span.total_seconds()), 3600)
    minutes = rest // 60
    days, hours_only = divmod(hours, 24)
    if days:
        words = _("%(d)s d %(h)s h") % {"d": days, "h": hours_only}
    elif hours:
        words = _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    else:
        words = _("%(m)s min") % {"m": minutes}
    return {
        "text": (_("overdue by %(t)s") if overdue else _("%(t)s left")) % {"t": words},
        "overdue": overdue,
        "soon": not overdue and delta < timedelta(hours=6),
    }


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One queue line, ready to print (the page renders 50 of them; each lookup counts)."""

    pk: int
    url: str
    assign_url: str
    status: str
    status_label: str
    deadline_iso: str
    deadline_text: str
    merchant_deadline: bool
    left: dict[str, Any]
    kind_label: str
    order_ref: str
    reason_label: str
    seller: str
    seller_name: str
    health: SellerHealth | None
    odr_text: str
    recommended_rules: tuple[str, ...]
    assigned_to: str
    assigned_id: int | None


def queue_rows(appeals: list[Appeal], now: datetime) -> list[QueueRow]:
    """What each queue line shows: one health query per marketplace on the page."""
    health = sellers_health({(a.seller_id, a.marketplace_id) for a in appeals})
    prefix = reverse("review_queue")
    rows = []
    for appeal in appeals:
        defect = appeal.defect
        reason = reason_lookup(defect.kind, appeal.reason)
        merchant = appeal.status == Status.INFO_REQUESTED
        deadline = appeal.info_due_at if merchant else appeal.review_due_at
        seller_health = health.get((appeal.seller_id, appeal.marketplace_id))
        local = timezone.localtime(deadline) if deadline is not None else None
        rows.append(
            QueueRow(
                pk=appeal.pk,
                url=f"{prefix}appeals/{appeal.pk}/",
                assign_url=f"{prefix}appeals/{appeal.pk}/assign/",
                status=appeal.status,
                status_label=str(Status(appeal.status).label),
                deadline_iso=local.isoformat() if local else "",
                deadline_text=local.strftime("%Y-%m-%d %H:%M %Z") if local else "—",
                merchant_deadline=merchant,
                left=time_left(deadline, now),
                kind_label=str(Defect.Kind(defect.kind).label),
                order_ref=defect.order.order_ref,
                reason_label=str(reason.label) if reason else appeal.reason,
                seller=appeal.seller.external_id,
                seller_name=appeal.seller.name,
                health=seller_health,
                odr_text=percent(seller_health.odr) if seller_health else "",
                recommended_rules=tuple(
                    str(r.get("rule", ""))
                    for r in (appeal.recommendations or [])
                    if isinstance(r, dict)
                ),
                assigned_to=appeal.assigned_to.get_username() if appeal.assigned_to else "",
                assigned_id=appeal.assigned_to_id,
            )
        )
    return rows


def reviewers() -> list[AbstractBaseUser]:
    """Everyone who may be assigned an appeal."""
    ids = StaffRole.objects.filter(role=StaffRole.Role.REVIEWER).values_list("user_id", flat=True)
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username"))
