"""The product's own page for a form refused by the CSRF check (a stale or missing token)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

TEXT_FIELDS = ("explanation", "message", "question", "note")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Say why the form was refused, show the text that was typed, and link back to the form."""
    typed = [
        (name, request.POST.get(name, "")[:10_000])
        for name in TEXT_FIELDS
        if request.method == "POST" and request.POST.get(name, "").strip()
    ]
    referer = urlsplit(request.headers.get("Referer", ""))
    back = (
        referer.path
        if referer.path.startswith("/") and referer.netloc in ("", request.get_host())
        else ""
    )
    context = {"typed": typed, "back": back or request.path}
    return render(request, "web/csrf_failure.html", context, status=403)
