"""Merchant pages: thin views over selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from defectdesk.core.errors import NotFound
from defectdesk.ledger.selectors import order_events, order_for, orders_visible_to


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("orders")


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = orders_visible_to(request.user).order_by("-placed_at", "-id")
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(request, "web/order_list.html", {"page": page})


@login_required
def order_detail(request: HttpRequest, marketplace: str, order_ref: str) -> HttpResponse:
    try:
        order = order_for(request.user, marketplace, order_ref)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "web/order_detail.html", {"order": order, "events": order_events(order)})
