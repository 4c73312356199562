"""A metric's page: its trend, and the list behind each of its numbers; the defects that can
still be appealed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from defectdesk.appeals.listrows import list_rows
from defectdesk.appeals.standing import appealable_defects
from defectdesk.core.errors import BadRequest
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Order
from defectdesk.ledger.selectors import first_order_date
from defectdesk.metrics.health import Scope, metric_history, seller_health
from defectdesk.metrics.lists import ListSpec, default_part, list_number, list_spec, listed
from defectdesk.policy.metrics import metric_label
from defectdesk.policy.profile import METRICS
from defectdesk.policy.selectors import policy_for
from defectdesk.web.charts import ChartPoint, chart_svg
from defectdesk.web.common import Viewer, base_context, page, viewer_for
from defectdesk.web.explainers import metric_changes, metric_rolloff
from defectdesk.web.forms import AsOfForm, MetricListForm, PageNumberForm
from defectdesk.web.metriclinks import appealable_url, metric_list_url

PAGE_SIZE = 50
TREND_DAYS = 90


def blocked_texts() -> dict[str, str]:
    """Why a row has no Appeal button, in words."""
    return {
        "removed": _("Removed; it no longer counts."),
        "not_yet": _("Not counted yet."),
        "closed": _("The filing window has closed."),
        "used_up": _("Appealed the most times allowed."),
        "read_only": _("Read-only access."),
    }


def _chart_texts() -> dict[str, str]:
    return {
        "summary": _("{label}, daily from {first} to {last}; target {sign} {target}."),
        "point": _("{day}: {rate} ({numerator} / {denominator})"),
        "none": _("{day}: no orders"),
        "target": _("target {sign} {target}"),
    }


def _scope(request: HttpRequest, viewer: Viewer, errors: list[str]) -> Scope | None:
    """The seller in view in the marketplace in view; None with a message when it has none."""
    assert viewer.seller is not None
    if viewer.marketplace is None:
        errors.append(_("This seller has no orders yet, so there is nothing to list."))
        return None
    return Scope(viewer.seller, viewer.marketplace, policy_for(viewer.marketplace.pk))


def _day(form: AsOfForm, scope: Scope, errors: list[str]) -> tuple[date, date | None]:
    """The day asked for (today when it is not valid, with the reason) and the first order's."""
    today = scope.today
    first = first_order_date(scope.seller.pk, scope.marketplace.pk)
    refused = form.error_lists().get("as_of")
    if refused:
        errors.extend(refused)
        return today, first
    day = form.day
    if first is not None and day < first:
        errors.append(
            _(
                "%(day)s is before this seller's first order in %(market)s (%(first)s): "
                "nothing was counted yet. Showing today instead."
            )
            % {"day": day.isoformat(), "market": scope.marketplace.code, "first": first.isoformat()}
        )
        return today, first
    return day, first


def _markets(viewer: Viewer) -> list[str]:
    if viewer.seller is None:
        return []
    return sorted(
        set(
            Order.objects.filter(seller_id=viewer.seller.pk).values_list(
                "marketplace__code", flat=True
            )
        )
    )


def _tabs(
    scope: Scope, metric: str, spec: ListSpec, data: dict[str, Any], link: Any
) -> list[dict[str, Any]]:
    """The lists of the metric, each with its number, for choosing among them."""
    out: list[dict[str, Any]] = []
    lower = scope.policy.metrics[metric].condition == "lt"
    parts = [("numerator", _("Numerator")), ("denominator", _("Denominator"))]
    if not lower:
        parts.insert(0, ("misses", _("Misses")))
    for part, label in parts:
        number = data["denominator"] - data["numerator"] if part == "misses" else data[part]
        out.append(
            {
                "label": label,
                "number": number,
                "url": link(part=part),
                "current": spec.part == part and not spec.component and not spec.channel,
            }
        )
    if metric == "order_defect_rate":
        labels = dict(Defect.Kind.choices)
        for kind, n in data.get("components", {}).items():
            out.append(
                {
                    "label": labels.get(kind, kind),
                    "number": n,
                    "url": link(part="numerator", component=kind),
                    "current": spec.component == kind,
                }
            )
        channel_labels = {
            "merchant": _("Merchant-fulfilled"),
            "marketplace": _("Marketplace-fulfilled"),
        }
        for channel, item in data.get("by_fulfillment", {}).items():
            for part in ("numerator", "denominator"):
                out.append(
                    {
                        "label": f"{channel_labels[channel]}: "
                        + (_("numerator") if part == "numerator" else _("denominator")),
                        "number": item[part],
                        "url": link(part=part, channel=channel),
                        "current": spec.channel == channel and spec.part == part,
                    }
                )
    return out


def _list_chosen(form: MetricListForm, scope: Scope, metric: str, errors: list[str]) -> ListSpec:
    """The list asked for (its part, component and channel); the metric's default list, with
    the reason, when that one cannot be shown."""
    parts = ("part", "component", "channel")
    errors.extend(m for name in parts for m in form.error_lists().get(name, []))
    try:
        return list_spec(scope, metric, *(form.value(name, "") or None for name in parts))
    except BadRequest as exc:
        errors.append(" ".join([str(exc), *(e.message for e in exc.errors)]))
        return list_spec(scope, metric, default_part(scope, metric))


def _list_linker(scope: Scope, metric: str, day: date, seller: str) -> Callable[..., str]:
    """Links to the metric's lists (a part, a component, a channel) on the same day, for the
    same seller."""

    def link(**kw: Any) -> str:
        return metric_list_url(
            metric,
            marketplace=scope.marketplace.code,
            as_of=day,
            today=scope.today,
            seller=seller,
            **kw,
        )

    return link


def _trend(scope: Scope, metric: str, day: date, label: str) -> tuple[list[dict[str, Any]], str]:
    """The metric's daily history over the trend's days up to `day`, and its chart (SVG)."""
    history = metric_history(scope, metric, day - timedelta(days=TREND_DAYS - 1), day)
    points = [
        ChartPoint(date.fromisoformat(h["date"]), h["rate"], h["numerator"], h["denominator"])
        for h in history
    ]
    policy = scope.policy.metrics[metric]
    svg = chart_svg(
        points, target=policy.target, condition=policy.condition, label=label, texts=_chart_texts()
    )
    return history, mark_safe(svg)  # nosec B703 # SVG built by web.charts with every text escaped


@page
def metric_list(request: HttpRequest, metric: str) -> HttpResponse:
    viewer = viewer_for(request)
    errors: list[str] = []
    context = base_context(
        viewer, "health", metric=metric, errors=errors, blocked_texts=blocked_texts()
    )
    context["metrics"] = [(m, metric_label(m)) for m in METRICS]
    if viewer.seller is None:
        context["empty"] = True
        return render(request, "web/metric.html", context)
    if metric not in METRICS:
        errors.append(
            _("There is no metric %(metric)r. Choose one of the metrics below.")
            % {"metric": metric}
        )
        return render(request, "web/metric.html", context)
    scope = _scope(request, viewer, errors)
    if scope is None:
        context["markets"] = _markets(viewer)
        return render(request, "web/metric.html", context)
    form = MetricListForm(request.GET, today=scope.today)
    day, first = _day(form, scope, errors)
    spec = _list_chosen(form, scope, metric, errors)
    health = seller_health(scope, day)
    data = health["metrics"][metric]
    seller_param = request.GET.get("seller") or ""
    link = _list_linker(scope, metric, day, seller_param)
    items = listed(scope, spec, day)
    paginator = Paginator(items, PAGE_SIZE)
    current = paginator.get_page(form.page_number)
    rows = list_rows(viewer.principal, scope, spec, day, list(current.object_list), timezone.now())
    label = metric_label(metric)
    history, chart = _trend(scope, metric, day, label)
    context.update(
        scope=scope,
        marketplace=scope.marketplace,
        label=label,
        spec=spec,
        data=data,
        as_of=day,
        today=scope.today,
        first_order=first,
        number=list_number(spec, health),
        count=len(items),
        page_obj=current,
        rows=rows,
        tabs=_tabs(scope, metric, spec, data, link),
        chart=chart,
        history=list(reversed(history)),
        changes=metric_changes(scope, metric, day),
        rolloff=metric_rolloff(scope, metric, day),
        is_messages=metric == "contact_response_rate",
        page_query=link(part=spec.part, component=spec.component, channel=spec.channel),
        appealable_url=appealable_url(marketplace=scope.marketplace.code, seller=seller_param),
        health_url=f"{reverse('home')}?"
        + urlencode({"marketplace": scope.marketplace.code, "as_of": day.isoformat()}),
    )
    return render(request, "web/metric.html", context)


@page
def appealable(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    errors: list[str] = []
    context = base_context(viewer, "health", errors=errors, blocked_texts=blocked_texts())
    if viewer.seller is None:
        context["empty"] = True
        return render(request, "web/appealable.html", context)
    scope = _scope(request, viewer, errors)
    if scope is None:
        context["markets"] = _markets(viewer)
        return render(request, "web/appealable.html", context)
    now = timezone.now()
    found = appealable_defects(viewer.principal, scope.seller, scope.marketplace, now)
    paginator = Paginator(found, PAGE_SIZE)
    current = paginator.get_page(PageNumberForm(request.GET).page_number)
    labels = dict(Defect.Kind.choices)
    context.update(
        scope=scope,
        marketplace=scope.marketplace,
        count=len(found),
        page_obj=current,
        rows=[(d, labels.get(d.kind, d.kind), s) for d, s in current.object_list],
        may_write=viewer.may_write,
    )
    return render(request, "web/appealable.html", context)
