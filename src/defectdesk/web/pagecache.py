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

from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string

from defectdesk.web.templatetags.webui import CSRF_SLOT, header_shown

PAGE_CACHE_SECONDS = 600


def messages_pending(request: HttpRequest) -> bool:
    """Whether the page would show flash messages (stored in a cookie or the session)."""
    storage = getattr(request, "_messages", None)
    if storage is not None and getattr(storage, "_queued_messages", None):
        return True
    if CookieStorage.cookie_name in request.COOKIES:
        return True
    session = getattr(request, "session", None)
    return session is not None and SessionStorage.session_key in session


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
    # The header's key holds the language too.
    key = (
        f"web:page:{hashlib.sha256(repr((template, shown, body_digest)).encode()).hexdigest()[:40]}"
    )
    local = caches["local"]
    html = local.get(key)
    if html is None:
        html = render_to_string(template, {**context, "csrf_token": CSRF_SLOT}, request=request)
        local.set(key, html, PAGE_CACHE_SECONDS)
    return HttpResponse(html.replace(CSRF_SLOT, get_token(request)))
