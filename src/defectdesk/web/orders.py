"""Orders: the searchable list, its CSV export, and the order page with its defects."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice
from typing import Any, cast
from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from defectdesk.appeals.models import Appeal
from defectdesk.appeals.policy import appeal_rules_for
from defectdesk.appeals.selectors import appealable_until_many, appeals_visible_to
from defectdesk.appeals.transitions import OPEN_STATUSES
from defectdesk.core.actors import Actor
from defectdesk.core.datacache import cached, shows_seller
from defectdesk.core.errors import ValidationFailed
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Order
from defectdesk.ledger.selectors import order_events, order_for, orders_visible_to
from defectdesk.ledger.words import event_title
from defectdesk.messaging.actions import MAX_BODY, message_reply
from defectdesk.messaging.selectors import order_buyer_messages, response_window
from defectdesk.messaging.threads import answer_state
from defectdesk.policy.kinds import DEFECT_KINDS, kind_text
from defectdesk.policy.selectors import policy_for
from defectdesk.web.common import Viewer, base_context, page, viewer_at, viewer_for
from defectdesk.web.csvsafe import csv_cell
from defectdesk.web.forms import OrderFilterForm, OrderReplyForm
from defectdesk.web.orderquery import FULFILMENTS, OrderFilters, filters_apply
from defectdesk.web.pagecache import Body, cached_page
from defectdesk.web.timeline import event_detail

PAGE_SIZE = 50
LISTING_CACHE_SECONDS = 60
# Counting every order of a very large seller costs a scan; beyond this many the list says
# "10,000+" and pages up to there (narrow the filters to reach older orders).
COUNT_CAP = 10_000

# What Django's URL reversing leaves unquoted in a path (an order's link in the list).
URL_SAFE = "!$&'()*+,;=/~:@"
CENTS = Decimal("0.01")


class CappedPaginator(Paginator):
    """A paginator whose count stops at COUNT_CAP (one LIMITed count, not a full scan)."""

    @cached_property
    def count(self) -> int:
        rows = cast("QuerySet[Order]", self.object_list)
        return rows[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP

    @cached_property
    def num_pages(self) -> int:
        return max(1, -(-min(self.count, COUNT_CAP) // self.per_page))


EXPORT_CHUNK = 2000


def _orders(viewer: Viewer, filters: OrderFilters) -> Any:
    visible = orders_visible_to(viewer.principal)
    if viewer.seller is None:
        return visible.none()
    mine = visible.filter(seller=viewer.seller)
    if viewer.marketplace is not None:
        mine = mine.filter(marketplace=viewer.marketplace)
    return filters_apply(mine, filters, viewer.seller.pk)


def _active_kinds(order_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    rows = (
        Defect.objects.filter(
            order_id__in=order_ids, status=Defect.Status.ACTIVE, opened_at__lt=timezone.now()
        )
        .order_by("kind")
        .values_list("order_id", "kind")
    )
    for order_id, kind in rows:
        found.setdefault(order_id, []).append(kind)
    return found


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of the order list as shown: the count, where the page is, its rows."""

    count: int
    capped: bool
    num_pages: int
    number: int
    rows: list[Order]  # each with its url, total_text and active_kinds (web/_order_rows.html)

    @property
    def has_rows(self) -> bool:
        return bool(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _listing(viewer: Viewer, filters: OrderFilters, page_number: int | None) -> Listing:
    orders = _orders(viewer, filters).only(
        "id",
        "order_ref",
        "placed_at",
        "status",
        "fulfillment",
        "total_amount",
        "currency",
        "buyer",
        "tracking_number",
        "marketplace__code",
        "seller__external_id",
    )
    paginator = CappedPaginator(orders, PAGE_SIZE)
    current = paginator.get_page(page_number)
    rows = list(current.object_list)
    kinds = _active_kinds([o.pk for o in rows])
    labels = dict(Defect.Kind.choices)
    orders_url = reverse("orders")
    for order in rows:
        order.active_kinds = [(k, labels.get(k, k)) for k in kinds.get(order.pk, [])]  # type: ignore[attr-defined]
        order.url = (  # type: ignore[attr-defined]
            f"{orders_url}{quote(order.marketplace.code, URL_SAFE)}/"
            f"{quote(order.order_ref, URL_SAFE)}/"
        )
        order.total_text = (  # type: ignore[attr-defined]
            formats.number_format(order.total_amount.quantize(CENTS, ROUND_HALF_UP), 2)
            if order.total_amount is not None
            else "—"
        )
    return Listing(
        count=paginator.count,
        capped=paginator.capped,
        num_pages=paginator.num_pages,
        number=current.number,
        rows=rows,
    )


@page
def order_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    form = OrderFilterForm(request.GET)
    filters = form.filters()
    page_number = form.page_number

    def render_body() -> Body:
        listing = _listing(viewer, filters, page_number)
        context = {
            "listing": listing,
            "filters": filters,
            "kinds": Defect.Kind.choices,
            "statuses": Order.Status.choices,
            "fulfilments": [
                (
                    f,
                    pgettext("fulfilment", "Merchant")
                    if f == "merchant"
                    else pgettext("fulfilment", "Marketplace"),
                )
                for f in FULFILMENTS
            ],
            "export_query": request.GET.urlencode(),
            "placed_sort": "placed" if filters.sort == "-placed" else "-placed",
        }
        return Body.of(render_to_string("web/order_list_body.html", context, request=request))

    # The same page for everyone who may see the seller, with the same query string, until the
    # data changes or a minute passes (a defect dated ahead starts to count on its own).
    if viewer.seller is None:
        body = render_body()
    else:
        market = viewer.marketplace.pk if viewer.marketplace is not None else None
        shown = (market, sorted(request.GET.lists()))
        shows = shows_seller(viewer.seller.pk)
        body = cached("web:orders", shows, shown, render_body, LISTING_CACHE_SECONDS)
    context = base_context(viewer, "orders", body=mark_safe(body.html))  # nosec B703 # HTML rendered by an autoescaping template
    return cached_page(request, "web/order_list.html", context, body.digest)


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_HEADER = [
    "order",
    "marketplace",
    "placed_at",
    "status",
    "fulfillment",
    "buyer",
    "skus",
    "total",
    "currency",
    "carrier",
    "tracking_number",
    "active_defects",
]


def _export_rows(orders: Any) -> Iterator[list[str]]:
    yield EXPORT_HEADER
    rows = orders.values_list(
        "pk",
        "order_ref",
        "marketplace__code",
        "placed_at",
        "status",
        "fulfillment",
        "buyer",
        "skus",
        "total_amount",
        "currency",
        "carrier",
        "tracking_number",
    ).iterator(chunk_size=EXPORT_CHUNK)
    while True:
        chunk = list(islice(rows, EXPORT_CHUNK))
        if not chunk:
            return
        kinds = _active_kinds([r[0] for r in chunk])
        for pk, *values in chunk:
            placed: datetime = values[2]
            values[2] = placed.isoformat()
            yield [csv_cell(v) for v in values] + [csv_cell(" ".join(kinds.get(pk, [])))]


@page
def order_export(request: HttpRequest) -> StreamingHttpResponse:
    viewer = viewer_for(request)
    filters = OrderFilterForm(request.GET).filters()
    writer = csv.writer(_Echo())
    stream = (writer.writerow(row) for row in _export_rows(_orders(viewer, filters)))
    name = f"orders-{viewer.seller.external_id if viewer.seller else 'none'}-"
    name += f"{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@dataclass
class DefectView:
    defect: Defect
    label: str
    why: str
    appealable_until: datetime | None
    open_appeal: Appeal | None
    past_appeals: list[Appeal]
    can_appeal: bool
    blocked: str
    upcoming: bool


def _why_it_counts(kind: str, settings: dict[str, dict[str, Any]]) -> str:
    """Why a defect of this kind counts, in the merchant's words and the policy's numbers."""
    declared = DEFECT_KINDS.get(kind)
    return kind_text(declared.why_it_counts, settings.get(kind, {})) if declared else ""


def _defect_views(viewer: Viewer, order: Order) -> list[DefectView]:
    defects = list(
        Defect.objects.filter(order=order).select_related("order").order_by("opened_at", "id")
    )
    if not defects:
        return []
    until = appealable_until_many(defects)
    appeals = list(
        appeals_visible_to(viewer.principal)
        .filter(defect__order=order)
        .order_by("created_at", "id")
    )
    rules = appeal_rules_for(order.marketplace_id)
    settings = policy_for(order.marketplace_id).defects.settings
    may_write = viewer.principal.may_write_seller(order.seller_id)
    now = timezone.now()
    labels = dict(Defect.Kind.choices)
    out = []
    for defect in defects:
        mine = [a for a in appeals if a.defect_id == defect.pk]
        open_one = next((a for a in mine if a.status in OPEN_STATUSES), None)
        used = sum(1 for a in mine if a.submitted_at is not None)
        closes = until.get(defect.pk)
        blocked = ""
        upcoming = defect.status == Defect.Status.ACTIVE and defect.opened_at >= now
        if defect.status != Defect.Status.ACTIVE:
            blocked = _("This defect was removed; it no longer counts.")
        elif upcoming:
            blocked = _("It does not count yet; you can appeal it once it does.")
        elif open_one is not None:
            blocked = ""
        elif closes is not None and now > closes:
            blocked = _("The filing window for this defect has closed.")
        elif used >= rules.max_appeals_per_defect:
            blocked = _("This defect was already appealed %(n)d times, the most allowed.") % {
                "n": used
            }
        elif not may_write:
            blocked = _("Read-only access: you can follow appeals but not file them.")
        can = not blocked and open_one is None and defect.status == Defect.Status.ACTIVE
        out.append(
            DefectView(
                defect=defect,
                label=str(labels.get(defect.kind, defect.kind)),
                why=_why_it_counts(defect.kind, settings),
                appealable_until=closes,
                open_appeal=open_one,
                past_appeals=[a for a in mine if a is not open_one],
                can_appeal=can,
                blocked=blocked,
                upcoming=upcoming,
            )
        )
    return out


@page
def order_detail(request: HttpRequest, marketplace: str, order_ref: str) -> HttpResponse:
    viewer = viewer_for(request)
    order = order_for(viewer.principal, marketplace, order_ref)
    return _order_page(request, viewer, order)


@page
@require_POST
def order_reply(request: HttpRequest, marketplace: str, order_ref: str) -> HttpResponse:
    """Answer the buyer on this order (a `message.sent` event); errors show by the field."""
    viewer = viewer_for(request)
    order = order_for(viewer.principal, marketplace, order_ref)
    form = OrderReplyForm(request.POST)
    body = str(form.data.get("body", ""))
    try:
        if form.is_valid():
            message_reply(
                actor=Actor(user=request.user),
                principal=viewer.principal,
                order=order,
                body=form.cleaned_data["body"],
            )
    except ValidationFailed as exc:
        form.refuse(exc)
    if not form.is_valid() or form.error_lists():
        # Every message shows under the reply box, whichever field the action named.
        found = form.error_lists()
        shown = {"body": [m for ms in found.values() for m in ms]}
        return _order_page(request, viewer, order, reply=body, reply_errors=shown)
    messages.success(request, _("Your reply was sent to the buyer."))
    return redirect(reverse("order", args=[order.marketplace.code, order.order_ref]))


def _order_page(
    request: HttpRequest,
    viewer: Viewer,
    order: Order,
    *,
    reply: str = "",
    reply_errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    viewer = viewer_at(viewer, order.seller, order.marketplace)
    now = timezone.now()
    stored = list(order_events(order).only("occurred_at", "type", "data", "event_id"))
    events = [
        {
            "at": e.occurred_at,
            "type": e.type,
            "title": event_title(e.type),
            "detail": event_detail(e.type, e.data),
        }
        for e in stored
    ]
    # The order is the thread: the buyer's messages, each with where its answer stands, and
    # the seller's replies, in time order.
    states = {m.message_id: m for m in order_buyer_messages(order)}
    thread = []
    for e in stored:
        if e.type not in ("message.received", "message.sent"):
            continue
        row: dict[str, Any] = {
            "at": e.occurred_at,
            "from_buyer": e.type == "message.received",
            "body": (e.data or {}).get("body") or "",
        }
        found = states.get(str((e.data or {}).get("message_id", "")))
        if row["from_buyer"] and found is not None:
            row["state"], row["due"] = answer_state(
                found.received_at,
                found.answered_at,
                found.no_response_needed_at,
                now,
                response_window(order.marketplace_id),
            )
        thread.append(row)
    context = base_context(
        viewer,
        "orders",
        order=order,
        events=events,
        defects=_defect_views(viewer, order),
        thread=thread,
        reply=reply,
        reply_errors=reply_errors or {},
        reply_limit=MAX_BODY,
    )
    return render(request, "web/order_detail.html", context)
