"""The operator page of Stripe disputes: waiting for their order, inquiries, refused, applied."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from defectdesk.console.access import operator_page
from defectdesk.console.forms import StripeFilterForm
from defectdesk.ledger.models import StripeDispute

PAGE_SIZE = 100


@operator_page
@require_GET
def stripe_disputes(request: HttpRequest) -> HttpResponse:
    """Every dispute with Stripe's raw status beside ours; the ones needing a look first."""
    form = StripeFilterForm(request.GET)
    state = form.state_shown
    rows = StripeDispute.objects.select_related("order", "order__marketplace").order_by(
        "-updated_at", "-id"
    )
    if state:
        rows = rows.filter(state=state)
    counts = {s: StripeDispute.objects.filter(state=s).count() for s in StripeDispute.State.values}
    page = Paginator(rows, PAGE_SIZE).get_page(form.page_number)
    context = {
        "page": page,
        "state": state,
        "states": [(s, label, counts[s]) for s, label in StripeDispute.State.choices],
        "section": "operator",
        "tab": "stripe",
        "active": "operator",
    }
    return render(request, "console/stripe.html", context)
