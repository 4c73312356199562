"""The product's own answers to a form refused by the CSRF check (a stale or missing token) and
to a request Django refuses before any view (too many fields, a foreign Host)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
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


def _bad_request_reason(exception: Exception | None) -> tuple[int, str, str, str]:
    """(status, detail, field, message) for what Django refused."""
    if isinstance(exception, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return 400, f"The request has more than {limit} parameters.", "query", f"at most {limit}"
    if isinstance(exception, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return 400, f"The request has more than {limit} files.", "file", f"at most {limit}"
    if isinstance(exception, RequestDataTooBig):
        return 413, "The request body is too large.", "body", "is too large"
    if isinstance(exception, DisallowedHost):
        # The Host is not echoed: it is the attacker's text.
        return (
            400,
            "The Host header names a site this server does not serve.",
            "Host",
            "is not a name this site answers to",
        )
    return 400, "The request is not valid.", "", ""


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Say what was wrong: JSON under /api/, plain text elsewhere (no template, so that nothing
    asks for the refused Host again)."""
    status, detail, field, message = _bad_request_reason(exception)
    if request.path_info.startswith("/api/"):
        errors = [{"field": field, "message": message}] if field else []
        return JsonResponse({"detail": detail, "errors": errors}, status=status)
    return HttpResponse(f"{detail}\n", status=status, content_type="text/plain; charset=utf-8")
