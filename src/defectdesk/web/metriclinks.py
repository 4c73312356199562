"""Links to a metric's lists and to the defects that can still be appealed."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.urls import reverse


def metric_list_url(
    metric: str,
    *,
    marketplace: str,
    as_of: date | None = None,
    today: date | None = None,
    part: str = "",
    component: str = "",
    channel: str = "",
    seller: str = "",
) -> str:
    """The page of a metric's list; today's day is left out of the link."""
    params = {
        "part": part,
        "component": component,
        "channel": channel,
        "marketplace": marketplace,
        "as_of": as_of.isoformat() if as_of and as_of != today else "",
        "seller": seller,
    }
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{reverse('metric_list', args=[metric])}?{query}"


def appealable_url(*, marketplace: str, seller: str = "") -> str:
    query = urlencode({k: v for k, v in (("marketplace", marketplace), ("seller", seller)) if v})
    return f"{reverse('appealable')}?{query}"
