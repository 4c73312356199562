"""Account health (the home page): metric cards, 90-day trends, what changed, roll-offs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from defectdesk.core.datacache import cached, shows_seller
from defectdesk.defects.models import Defect
from defectdesk.ledger.selectors import first_order_date
from defectdesk.metrics.health import Scope, metric_history, scope_for, seller_health
from defectdesk.metrics.today import today_mark
from defectdesk.policy.metrics import metric_label
from defectdesk.policy.profile import METRICS
from defectdesk.web.charts import TrendPoint, trend_svg
from defectdesk.web.common import base_context, page, viewer_for
from defectdesk.web.explainers import metric_changes, metric_rolloff
from defectdesk.web.forms import AsOfForm
from defectdesk.web.metriclinks import appealable_url, metric_list_url
from defectdesk.web.pagecache import Body, cached_page

TREND_DAYS = 90
# The version in the key makes a stale entry unreachable; the timeout only bounds memory.
HEALTH_CACHE_SECONDS = 3600


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


def _list_url(scope: Scope, name: str, as_of: date, **params: str) -> str:
    return metric_list_url(
        name, marketplace=scope.marketplace.code, as_of=as_of, today=scope.today, **params
    )


def _links(scope: Scope, name: str, as_of: date) -> tuple[str, str]:
    """The lists behind a card's numerator and denominator."""
    return (
        _list_url(scope, name, as_of, part="numerator"),
        _list_url(scope, name, as_of, part="denominator"),
    )


def _breakdown(scope: Scope, card: MetricCard, as_of: date) -> list[dict[str, Any]]:
    """The ODR's components and fulfilment channels, each with the link to its list."""
    if card.name != "order_defect_rate":
        return []
    labels = dict(Defect.Kind.choices)
    out: list[dict[str, Any]] = [
        {
            "label": labels.get(kind, kind),
            "number": n,
            "url": _list_url(scope, card.name, as_of, part="numerator", component=kind),
        }
        for kind, n in card.data.get("components", {}).items()
    ]
    names = {"merchant": _("Merchant-fulfilled"), "marketplace": _("Marketplace-fulfilled")}
    for channel, item in card.data.get("by_fulfillment", {}).items():
        out.append(
            {
                "label": names.get(channel, channel),
                "rate": item["rate"],
                "number": item["numerator"],
                "url": _list_url(scope, card.name, as_of, part="numerator", channel=channel),
                "denominator": item["denominator"],
                "denominator_url": _list_url(
                    scope, card.name, as_of, part="denominator", channel=channel
                ),
            }
        )
    return out


def _changes(scope: Scope, as_of: date, cards: list[MetricCard]) -> list[dict[str, Any]]:
    """Each metric that moved in the last 7 days, with what entered and left its count."""
    out = []
    for card in cards:
        if card.week_ago == card.data["rate"]:
            continue
        item = metric_changes(scope, card.name, as_of)
        if not (item["entered"] or item["left"]) and None in (card.week_ago, card.data["rate"]):
            continue
        out.append({"name": card.name, "label": card.label, **item, "before": card.week_ago})
    return out


def _rolloff(scope: Scope, as_of: date, cards: list[MetricCard]) -> dict[str, Any]:
    """When each counted order of every metric leaves the window, day by day."""
    by_day: dict[date, list[dict[str, Any]]] = {}
    active = 0
    for card in cards:
        seen = metric_rolloff(scope, card.name, as_of)
        active += seen["active"]
        for entry in seen["calendar"]:
            by_day.setdefault(entry["day"], []).append({**entry, "label": card.label})
    return {"calendar": [(day, by_day[day]) for day in sorted(by_day)], "active": active}


def _chart_texts() -> dict[str, str]:
    return {
        "empty": _("{label}: no orders in the window from {first} to {last}."),
        "trend": _("{label} from {first} to {last}: {start} to {end}; target {sign} {target}."),
    }


def _health_computed(scope: Scope, as_of: date) -> dict[str, Any]:
    """The health, cards, changes and roll-offs as of a day."""
    health = seller_health(scope, as_of)
    week_ago = seller_health(scope, as_of - timedelta(days=7))
    cards = []
    for name in METRICS:
        data = health["metrics"][name]
        spec = scope.policy.metrics[name]
        history = metric_history(scope, name, as_of - timedelta(days=TREND_DAYS - 1), as_of)
        points = [TrendPoint(date.fromisoformat(h["date"]), h["rate"]) for h in history]
        label = metric_label(name)
        num_url, den_url = _links(scope, name, as_of)
        cards.append(
            MetricCard(
                name=name,
                label=label,
                data=data,
                chart=mark_safe(  # nosec B703 # SVG built by web.charts with every text escaped
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
        "rolloff": _rolloff(scope, as_of, cards),
        "breakdown": _breakdown(scope, cards[0], as_of),
        "appealable_url": appealable_url(marketplace=scope.marketplace.code),
    }
    return computed


def _first_order_day(scope: Scope) -> str:
    """The seller's first order date in the marketplace, as YYYY-MM-DD ("" for none)."""
    first = first_order_date(scope.seller.pk, scope.marketplace.pk)
    return first.isoformat() if first is not None else ""


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
    # Everything below shows this seller's data (and its marketplace's policy).
    shows = shows_seller(seller.pk)

    def scope_of(code: str | None) -> Scope:
        # The marketplace and its policy change only through audited actions, which change
        # the version: read once per version, not on every request.
        found = cached(
            "web:scope", shows, code, lambda: scope_for(seller, code), HEALTH_CACHE_SECONDS
        )
        return Scope(seller, found.marketplace, found.policy)

    scope = scope_of(viewer.marketplace.code)
    today = scope.today
    form = AsOfForm(request.GET, today=today)
    as_of = form.day
    error = " ".join(form.error_lists().get("as_of", []))
    first = cached(
        "web:first-order",
        shows,
        scope.marketplace.pk,
        lambda: _first_order_day(scope),
        HEALTH_CACHE_SECONDS,
    )
    if first and as_of.isoformat() < first:
        error = _(
            "%(day)s is before this seller's first order in %(market)s (%(first)s): nothing "
            "was counted yet. Showing today instead."
        ) % {"day": as_of.isoformat(), "market": scope.marketplace.code, "first": first}
        as_of = today

    def render_body() -> Body:
        computed = _health_computed(scope, as_of)
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
                    "breakdown": computed["breakdown"],
                    "appealable_url": computed["appealable_url"],
                },
            )
        )

    # The body is the same for everyone who may see the seller: rendered once per data
    # version (and day and message), not on every request.
    # Today's numbers also move when a deadline passes (DESIGN §4): the mark changes then.
    mark = today_mark(scope.marketplace, scope.policy, seller.pk) if as_of == today else None
    shown = (seller.name, scope.marketplace.pk, as_of, today, error, mark)
    body = cached("web:health", shows, shown, render_body, HEALTH_CACHE_SECONDS)
    context = base_context(viewer, "health", body=mark_safe(body.html))  # nosec B703 # HTML rendered by an autoescaping template
    return cached_page(request, "web/health.html", context, body.digest)
