"""Show times in the viewer's time zone; refuse request input no view can use; name requests."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.utils import timezone

from defectdesk.core.audit import (
    REQUEST_ID_HEADER,
    request_id_from,
    reset_request_id,
    set_request_id,
)
from defectdesk.core.multipart import record_sent_file_names


class ViewerTimezoneMiddleware:
    """Activate the zone the browser reported (cookie `tz`), else UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.COOKIES.get("tz", "")
        try:
            timezone.activate(ZoneInfo(name)) if name else timezone.deactivate()
        except (ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


MAX_PAGE = 1_000_000
"""The highest page number a list accepts (its offset stays far inside the database's range)."""


PAGE_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})
"""The methods a web page answers; any other is a 405 (the API routes its own methods)."""


def _api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _webhook(request: HttpRequest) -> bool:
    return request.path_info.startswith("/webhooks/")


def _refusal(
    request: HttpRequest, status: int, detail: str, field: str, message: str
) -> HttpResponse:
    if _api(request):
        body = {"detail": detail, "errors": [{"field": field, "message": message}] if field else []}
        return JsonResponse(body, status=status)
    return HttpResponse(f"{detail}\n", status=status, content_type="text/plain; charset=utf-8")


def _page_too_far(value: str) -> bool:
    text = value.strip()
    return text.isdigit() and int(text) > MAX_PAGE


class RequestInputMiddleware:
    """Refuse input no view can store or count: NUL characters and pages past any list's end,
    and methods no page answers (PUT, PATCH, DELETE: 405).

    A NUL in the path is a 404; one in a query parameter, or a page number over MAX_PAGE, is a
    400 (422 for the page) naming the parameter in the API, and a redirect to the same page
    without it for a web page read, so that a merchant sees the list rather than an error page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in PAGE_METHODS and not _api(request) and not _webhook(request):
            return HttpResponseNotAllowed(sorted(PAGE_METHODS - {"HEAD", "OPTIONS"}))
        if request.method == "POST" and (request.content_type or "").startswith("multipart/"):
            record_sent_file_names(request)
        if "\x00" in request.path_info:
            if _api(request):
                return JsonResponse({"detail": "Not found.", "errors": []}, status=404)
            raise Http404("No such page.")
        bad = next(
            (k for k, v in request.GET.lists() if "\x00" in k or any("\x00" in x for x in v)), None
        )
        far = any(_page_too_far(v) for v in request.GET.getlist("page"))
        if bad is None and not far:
            return self.get_response(request)
        if request.method in ("GET", "HEAD") and not _api(request):
            kept = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                clean = key.replace("\x00", "")
                for value in values:
                    value = value.replace("\x00", "")
                    kept.appendlist(
                        clean, str(MAX_PAGE) if clean == "page" and _page_too_far(value) else value
                    )
            query = kept.urlencode()
            return HttpResponseRedirect(request.path + (f"?{query}" if query else ""))
        if bad is not None:
            name = bad.replace("\x00", "\\0")
            return _refusal(
                request, 400, "The request is not valid.", name, "must not contain NUL characters"
            )
        return _refusal(
            request, 422, "The page is not valid.", "page", f"must be at most {MAX_PAGE}"
        )


class RequestIdMiddleware:
    """Give each request an id (the X-Request-ID sent, when valid, else a new one): audit events
    written while serving it carry the id, and the response names it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
