"""Whole pages kept per process, for the pages merchants open most (Account health, Orders).

Such a page is its header (cached under everything it shows: web.templatetags.webui) around
its body (rendered once per data version by the view), so the finished page is a function of
the header's key (which holds the language), the body and the template. It is kept under
those, with the CSRF token left as a slot that each request fills with its own. A page with
flash messages to show is always rendered, since showing them uses them up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string

from defectdesk.core.datacache import SHOWS_ONLY_KEY, cached
from defectdesk.web.templatetags.webui import CSRF_SLOT, header_shown

PAGE_CACHE_SECONDS = 600


def messages_pending(request: HttpRequest) -> bool:
    """Whether the page would show flash messages: counting them (unlike listing them) leaves
    them to be shown."""
    return len(get_messages(request)) > 0


@dataclass(frozen=True, slots=True)
class Body:
    """A page's rendered body with a digest of it, taken once when it is rendered."""

    html: str
    digest: str

    @classmethod
    def of(cls, html: str) -> Body:
        return cls(html, hashlib.sha256(html.encode()).hexdigest()[:40])


def cached_page(
    request: HttpRequest, template: str, context: dict[str, Any], body_digest: str
) -> HttpResponse:
    """`render(request, template, context)`, from the cache when nothing shown has changed.

    The template shows the header and `context["body"]` (whose digest is `body_digest`),
    and nothing else that varies."""
    if messages_pending(request):
        return render(request, template, context)
    shown, _ = header_shown(
        request, context.get("active"), context.get("seller"), context.get("viewer")
    )
    # A function of what its key names: the header's key (which holds the language), the body.
    html = cached(
        "web:page",
        SHOWS_ONLY_KEY,
        (template, shown, body_digest),
        lambda: render_to_string(template, {**context, "csrf_token": CSRF_SLOT}, request=request),
        PAGE_CACHE_SECONDS,
    )
    return HttpResponse(html.replace(CSRF_SLOT, get_token(request)))
