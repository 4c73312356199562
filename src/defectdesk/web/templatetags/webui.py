"""Template helpers of the Seller Center: navigation state, rates, query strings."""

from __future__ import annotations

import hashlib
from typing import Any

from django import template
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from defectdesk.accounts.roles import principal_for_user
from defectdesk.accounts.selectors import sellers_visible_to
from defectdesk.core.datacache import SHOWS_ONLY_KEY, cached
from defectdesk.notify.selectors import unread_count
from defectdesk.policy.metrics import metric_label

register = template.Library()

NAV_SELLERS_SHOWN = 50


def _url_or_none(name: str) -> str | None:
    """The path of a page another area serves, or None while it does not exist."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def nav_for(request: HttpRequest) -> dict[str, Any]:
    """Unread notifications, the viewer's roles and the sellers they may switch to (cached)."""
    cached = getattr(request, "_web_nav", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    principal = principal_for_user(request.user)
    sellers = []
    if not principal.sees_all_sellers and len(principal.seller_ids()) > 1:
        sellers = list(
            sellers_visible_to(principal)
            .order_by("external_id")
            .values_list("external_id", "name")[:NAV_SELLERS_SHOWN]
        )
    review_url, operator_url = _url_or_none("review_queue"), _url_or_none("operator_home")
    state = {
        "review_url": review_url,
        "operator_url": operator_url,
        "is_operator": principal.is_operator,
        "unread": unread_count(request.user),
        "is_reviewer": principal.is_reviewer,
        "sees_all": principal.sees_all_sellers,
        "sellers": sellers,
    }
    setattr(request, "_web_nav", state)  # noqa: B010
    return state


# Stands in for the CSRF token in a cached header or page; each request puts its own there.
CSRF_SLOT = "csrf-token-slot-4c1d"
HEADER_CACHE_SECONDS = 600


def header_shown(
    request: HttpRequest, active: str | None, seller: Any, viewer: Any
) -> tuple[str, dict[str, Any] | None]:
    """Everything the page header shows, as a cache key, and the navigation state."""
    user = request.user
    authenticated = bool(user is not None and user.is_authenticated)
    nav = nav_for(request) if authenticated else None
    shown = repr(
        (
            user.pk if authenticated else None,
            user.get_username() if authenticated else None,
            active,
            (seller.external_id, seller.name) if seller is not None else None,
            bool(viewer is not None and viewer.is_owner),
            _markets_shown(viewer),
            timezone.get_current_timezone_name(),
            sorted(nav.items()) if nav is not None else None,
            get_language(),
        )
    )
    return hashlib.sha256(shown.encode()).hexdigest()[:32], nav


def _markets_shown(viewer: Any) -> tuple[Any, ...]:
    """The marketplace in view, the ones to switch to, and the zone times are shown in."""
    if viewer is None or getattr(viewer, "marketplace", None) is None:
        return ()
    return (
        viewer.marketplace.code,
        tuple(m.code for m in viewer.marketplaces),
        viewer.time_zone,
    )


@register.simple_tag(takes_context=True)
def page_header(context: template.Context) -> SafeString:
    """The page's header and navigation, rendered once for everything it shows.

    The same user on the same page with the same sellers, roles and unread count sees the same
    header, so it is kept in this process's cache under all of those; only the CSRF token of
    the sign-out form differs between requests, and is put in afterwards (or, when the whole
    page is being cached, by web.pagecache)."""
    request: HttpRequest = context["request"]
    seller, viewer, active = context.get("seller"), context.get("viewer"), context.get("active")
    shown, nav = header_shown(request, active, seller, viewer)
    html: str = cached(
        "web:header",
        SHOWS_ONLY_KEY,
        shown,
        lambda: render_to_string(
            "web/_header.html",
            {
                "user": request.user,
                "nav": nav,
                "active": active,
                "seller": seller,
                "viewer": viewer,
                "csrf_token": CSRF_SLOT,
            },
        ),
        HEADER_CACHE_SECONDS,
    )
    # The sign-out form and the language switch (shown to everyone) carry the token.
    if CSRF_SLOT in html and context.get("csrf_token") != CSRF_SLOT:
        html = html.replace(CSRF_SLOT, get_token(request))
    return mark_safe(html)  # nosec B703 # HTML rendered by an autoescaping template


@register.filter
def pct(value: float | None, digits: int = 2) -> str:
    """A rate as a percentage for display (the API keeps it unrounded)."""
    if value is None:
        return "—"
    text = f"{value * 100:.{digits}f}"
    return f"{text}%"


@register.filter
def money(amount: Any, currency: str) -> str:
    """An amount with its currency as readers of the active language write it (Babel)."""
    from decimal import Decimal, InvalidOperation

    from defectdesk.core.language import money_text

    if amount in (None, ""):
        return "—"
    try:
        return money_text(Decimal(str(amount)), str(currency or "USD"))
    except (InvalidOperation, ValueError):
        return f"{amount} {currency}"


@register.simple_tag(takes_context=True)
def query(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (None or "" removes one)."""
    request: HttpRequest = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def condition_sign(condition: str) -> str:
    return "<" if condition == "lt" else ">"


@register.filter
def status_label(status: str) -> str:
    labels = {
        "good": _("Good"),
        "bad": _("Needs attention"),
        "none": _("No orders"),
        "healthy": _("Healthy"),
        "at_risk": _("At risk"),
    }
    return labels.get(status, status)


@register.filter
def order_label(code: str) -> str:
    """An order's status or fulfilment channel in words."""
    from defectdesk.ledger.models import Order

    labels: dict[str, str] = {value: str(label) for value, label in Order.Status.choices}
    labels |= {"merchant": _("merchant-fulfilled"), "marketplace": _("marketplace-fulfilled")}
    return labels.get(code, code)


@register.filter
def metric_labels(names: Any) -> str:
    """Metric codes as their names, comma separated."""
    return ", ".join(metric_label(n) for n in names)


@register.filter
def written_lang(text: Any) -> str:
    """The language a stored text (a note, a frozen summary) is written in, for its `lang`
    attribute: "zh", "en", ... or "und" when it has no letters."""
    from defectdesk.core.language import written_language

    return written_language(str(text or "")) or "und"
