"""Account health (the home page): metric cards, 90-day trends, what changed, roll-offs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from defectdesk.core.errors import DomainError
from defectdesk.defects.models import Defect
from defectdesk.metrics.explain import explain_change, outlook
from defectdesk.metrics.health import Scope, metric_history, parse_day, scope_for, seller_health
from defectdesk.metrics.today import today_mark
from defectdesk.metrics.version import data_version, version_cached
from defectdesk.policy.profile import METRICS
from defectdesk.web.charts import TrendPoint, trend_svg
from defectdesk.web.common import base_context, page, viewer_for
from defectdesk.web.pagecache import Body, cached_page

TREND_DAYS = 90
# The version in the key makes a stale entry unreachable; the timeout only bounds memory.
HEALTH_CACHE_SECONDS = 3600
PROJECTION_DAYS = 30
CHANGES_SHOWN = 12

METRIC_LABELS: dict[str, Any] = {
    "order_defect_rate": gettext_lazy("Order Defect Rate"),
    "pre_fulfillment_cancel_rate": gettext_lazy("Pre-fulfilment cancel rate"),
    "late_shipment_rate": gettext_lazy("Late shipment rate"),
    "valid_tracking_rate": gettext_lazy("Valid tracking rate"),
    "on_time_delivery_rate": gettext_lazy("On-time delivery rate"),
    "refund_rate": gettext_lazy("Refund rate"),
    "contact_response_rate": gettext_lazy("Contact response rate"),
}
# Which defect kinds make up each metric's numerator (the orders behind the number).
METRIC_KINDS: dict[str, tuple[str, ...]] = {
    "pre_fulfillment_cancel_rate": ("cancellation",),
    "late_shipment_rate": ("late_shipment",),
    "valid_tracking_rate": ("invalid_tracking",),
    "on_time_delivery_rate": ("late_delivery",),
    "refund_rate": ("refund",),
}
MERCHANT_ONLY = {
    "pre_fulfillment_cancel_rate",
    "late_shipment_rate",
    "valid_tracking_rate",
    "on_time_delivery_rate",
}


@dataclass
class MetricCard:
    name: str
    label: str
    data: dict[str, Any]
    chart: str
    week_ago: float | None
    numerator_url: str
    denominator_url: str

    @property
    def window_from(self) -> date:
        return date.fromisoformat(self.data["window"]["from"])

    @property
    def window_to(self) -> date:
        return date.fromisoformat(self.data["window"]["to"])


def _orders_url(**params: Any) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item not in (None, ""):
                pairs.append((key, str(item)))
    return f"{reverse('orders')}?{urlencode(pairs)}"


def _links(name: str, data: dict[str, Any], odr_kinds: tuple[str, ...]) -> tuple[str, str]:
    window = data["window"]
    base: dict[str, Any] = {"from": window["from"], "to": window["to"]}
    if name in MERCHANT_ONLY:
        base["fulfillment"] = "merchant"
    if name == "contact_response_rate":
        return reverse("messages"), reverse("messages")
    kinds = odr_kinds if name == "order_defect_rate" else METRIC_KINDS.get(name, ())
    return _orders_url(problem=1, kind=list(kinds), **base), _orders_url(**base)


def _changes(scope: Scope, as_of: date, cards: list[MetricCard]) -> list[dict[str, Any]]:
    """Each metric that moved in the last 7 days; for the ODR and any failing metric, what
    entered and what left its count (explaining every metric would fold too many orders)."""
    out = []
    for card in cards:
        if card.week_ago == card.data["rate"] or None in (card.week_ago, card.data["rate"]):
            continue
        item: dict[str, Any] = {
            "name": card.name,
            "label": card.label,
            "before": card.week_ago,
            "after": card.data["rate"],
            "entered": [],
            "left": [],
            "more": 0,
        }
        explain = card.name == "order_defect_rate" or card.data["status"] == "bad"
        if explain and card.name != "contact_response_rate":
            change = explain_change(scope, card.name, as_of - timedelta(days=7), as_of)
            for key in ("entered", "left"):
                item[key] = [
                    {**o, "reason": str(o.get("reason", "")).replace("_", " ")}
                    for o in change[key][:CHANGES_SHOWN]
                ]
            item["more"] = max(0, len(change["entered"]) + len(change["left"]) - 2 * CHANGES_SHOWN)
        out.append(item)
    return out


def _rolloff(scope: Scope, as_of: date) -> dict[str, Any]:
    """When each counted ODR defect leaves the window, with the projected rate that day."""
    seen = outlook(scope, "order_defect_rate", as_of)
    projected = {p["date"]: p for p in seen["projection"]}
    by_day: dict[str, list[str]] = {}
    for item in seen["defects"]:
        by_day.setdefault(item["leaves_window_on"], []).append(item["order"])
    calendar = []
    for day in sorted(by_day):
        point = projected.get(day)
        if point is None:
            continue
        calendar.append(
            {
                "day": date.fromisoformat(day),
                "orders": by_day[day],
                "rate": point["rate"],
                "status": point["status"],
            }
        )
    return {"calendar": calendar, "active": len(seen["defects"])}


def _chart_texts() -> dict[str, str]:
    return {
        "empty": _("{label}: no orders in the window from {first} to {last}."),
        "trend": _("{label} from {first} to {last}: {start} to {end}; target {sign} {target}."),
    }


def _health_computed(scope: Scope, as_of: date) -> dict[str, Any]:
    """The health, cards, changes and roll-offs as of a day."""
    health = seller_health(scope, as_of)
    week_ago = seller_health(scope, as_of - timedelta(days=7))
    odr_kinds = scope.policy.metrics["order_defect_rate"].kinds
    cards = []
    for name in METRICS:
        data = health["metrics"][name]
        spec = scope.policy.metrics[name]
        history = metric_history(scope, name, as_of - timedelta(days=TREND_DAYS - 1), as_of)
        points = [TrendPoint(date.fromisoformat(h["date"]), h["rate"]) for h in history]
        label = str(METRIC_LABELS.get(name, name))
        num_url, den_url = _links(name, data, odr_kinds)
        cards.append(
            MetricCard(
                name=name,
                label=label,
                data=data,
                chart=mark_safe(
                    trend_svg(
                        points,
                        target=spec.target,
                        condition=spec.condition,
                        label=label,
                        status=data["status"],
                        texts=_chart_texts(),
                    )
                ),
                week_ago=week_ago["metrics"][name]["rate"],
                numerator_url=num_url,
                denominator_url=den_url,
            )
        )
    computed = {
        "health": health,
        "cards": cards,
        "changes": _changes(scope, as_of, cards),
        "rolloff": _rolloff(scope, as_of),
    }
    return computed


@page
def account_health(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    if viewer.seller is None and viewer.principal.sees_all_sellers:
        # Staff have a home of their own; they reach a seller through the seller search.
        return redirect("review_queue" if viewer.principal.is_reviewer else "operator_home")
    if viewer.seller is None or viewer.marketplace is None:
        return render(request, "web/health.html", base_context(viewer, "health", empty=True))
    error = ""
    seller = viewer.seller
    version = data_version()

    def scope_of(code: str | None) -> Scope:
        # The marketplace and its policy change only through audited actions, which change
        # the version: read once per version, not on every request.
        found = version_cached(
            "web:scope",
            (seller.pk, code),
            lambda: scope_for(seller, code),
            HEALTH_CACHE_SECONDS,
            version=version,
        )
        return Scope(seller, found.marketplace, found.policy)

    try:
        scope = scope_of(viewer.marketplace.code)
        today = scope.today
        as_of = parse_day(request.GET.get("as_of"), "as_of", today, today)
    except DomainError as exc:
        if exc.status == 404:
            raise
        error = str(exc)
        scope = scope_of(viewer.marketplace.code)
        as_of = today = scope.today

    def render_body() -> Body:
        computed = _health_computed(scope, as_of)
        odr_kinds = scope.policy.metrics["order_defect_rate"].kinds
        labels = dict(Defect.Kind.choices)
        return Body.of(
            render_to_string(
                "web/health_body.html",
                {
                    "seller": seller,
                    "health": computed["health"],
                    "cards": computed["cards"],
                    "as_of": as_of,
                    "today": today,
                    "marketplace": scope.marketplace,
                    "changes": computed["changes"],
                    "rolloff": computed["rolloff"],
                    "error": error,
                    "odr_kind_labels": [(k, labels.get(k, k)) for k in odr_kinds],
                },
            )
        )

    # The body is the same for everyone who may see the seller: rendered once per data
    # version (and day and message), not on every request.
    # Today's numbers also move when a deadline passes (DESIGN §4): the mark changes then.
    mark = today_mark(scope.marketplace, scope.policy, seller.pk) if as_of == today else None
    shown = (seller.pk, seller.name, scope.marketplace.pk, as_of, today, error, mark)
    body = version_cached("web:health", shown, render_body, HEALTH_CACHE_SECONDS, version=version)
    context = base_context(viewer, "health", body=mark_safe(body.html))
    return cached_page(request, "web/health.html", context, body.digest)
