"""Structured logs: every line names the request it was written for, and each request is logged."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

access_logger = logging.getLogger("defectdesk.request")


class RequestIdFilter(logging.Filter):
    """Put the current request id (empty outside a request) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            # Imported here: logging is configured before the apps (and the audit models) load.
            from defectdesk.core.audit import current_request_id

            record.request_id = current_request_id()
        return True


class AccessLogMiddleware:
    """Log one line per request: method, path, status, duration and user, with its request id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        # Only a user some view already loaded: logging must not cost a query of its own.
        user = getattr(getattr(request, "user", None), "_wrapped", None)
        if user is empty:
            user = None
        access_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "db": getattr(request, "read_database", "default"),
            },
        )
        return response
