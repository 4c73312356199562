"""Template helpers of the Seller Center: navigation state, rates, query strings."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from defectdesk.accounts.roles import principal_for_user
from defectdesk.accounts.selectors import sellers_visible_to
from defectdesk.notify.selectors import unread_count

register = template.Library()

NAV_SELLERS_SHOWN = 50


def _url_or_none(name: str) -> str | None:
    """The path of a page another area serves, or None while it does not exist."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@register.simple_tag(takes_context=True)
def nav_state(context: template.Context) -> dict[str, Any]:
    """Unread notifications, the viewer's roles and the sellers they may switch to (cached)."""
    request: HttpRequest = context["request"]
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


@register.filter
def pct(value: float | None, digits: int = 2) -> str:
    """A rate as a percentage for display (the API keeps it unrounded)."""
    if value is None:
        return "—"
    text = f"{value * 100:.{digits}f}"
    return f"{text}%"


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
