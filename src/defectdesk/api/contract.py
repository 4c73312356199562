"""The promises every answer under /api/ keeps, whichever operation (or none) served it.

JSON errors in one shape with a `code` (unknown paths, 405 and failures included), a Bearer
challenge on 401, no token in the address, and request bodies only in the media types the
operation's OpenAPI entry declares (415 otherwise)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase

from defectdesk.api.errors import DETAILS, error_body, error_response
from defectdesk.core.audit import current_request_id

logger = logging.getLogger("defectdesk.api")

API_PREFIX = "/api/"
DOCS_PATHS = ("/api/v1/docs",)
"""Pages for people (Swagger UI): HTML, not JSON."""

BEARER_CHALLENGE = 'Bearer realm="DefectDesk"'

TOKEN_PARAMETERS = frozenset(
    {"token", "access_token", "api_key", "apikey", "api-key", "key", "bearer", "authorization"}
)
_TOKEN_VALUE = re.compile(r"\s*(bearer\s+)?dd_[0-9a-f]{8}_", re.IGNORECASE)

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
HTTP_EXCEPTIONS = (Http404, PermissionDenied, SuspiciousOperation, BadRequest)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


@cache
def _body_media_types() -> list[tuple[str, re.Pattern[str], frozenset[str], bool]]:
    """(method, path pattern, accepted media types, whether the body is required) of each
    operation that takes a body."""
    from defectdesk.api.openapi import served_schema

    found = []
    for path, operations in served_schema()["paths"].items():
        pattern = re.compile(
            "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", path)
            )
        )
        for method, operation in operations.items():
            body = operation.get("requestBody", {})
            if body.get("content"):
                found.append(
                    (
                        method.upper(),
                        pattern,
                        frozenset(body["content"]),
                        body.get("required", False),
                    )
                )
    # Literal paths first, so that /appeals/reasons is not taken for /appeals/{id}.
    found.sort(key=lambda row: row[1].pattern.count("[^/]+"))
    return found


def accepted_media_types(method: str, path: str) -> tuple[frozenset[str], bool] | None:
    """The media types the operation at `path` accepts for its body and whether it needs one;
    None if it takes none."""
    for op_method, pattern, types, required in _body_media_types():
        if op_method == method and pattern.fullmatch(path):
            return types, required
    return None


def _empty_form(request: HttpRequest) -> bool:
    """A form without a field (what many clients send for a POST without data)."""
    boundary = (request.content_params or {}).get("boundary", "")
    if request.content_type == "multipart/form-data" and boundary:
        return request.body.strip() == f"--{boundary}--".encode()
    return request.content_type == "application/x-www-form-urlencoded" and not request.body.strip()


def _has_body(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > 0 or "HTTP_TRANSFER_ENCODING" in request.META


def _media_type_refusal(request: HttpRequest) -> HttpResponse | None:
    if request.method not in BODY_METHODS or not _has_body(request):
        return None
    found = accepted_media_types(request.method, request.path_info)
    if found is None:
        return None
    accepted, required = found
    sent = (request.content_type or "").split(";")[0].strip().lower()
    if sent in accepted or (not required and _empty_form(request)):
        return None
    names = ", ".join(sorted(accepted))
    return error_response(
        415,
        f"This operation takes {names}, not {sent or 'a body without a Content-Type'}.",
        [{"field": "Content-Type", "message": f"must be one of: {names}"}],
    )


def _size_refusal(request: HttpRequest) -> HttpResponse | None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return error_response(400, "The Content-Length header is not a number.")
    if limit is not None and length > limit:
        return error_response(
            413, f"The request body is {length:,} bytes; the limit is {limit:,} bytes."
        )
    return None


def _token_refusal(request: HttpRequest) -> HttpResponse | None:
    for name, values in request.GET.lists():
        if name.lower() in TOKEN_PARAMETERS or any(_TOKEN_VALUE.match(v) for v in values):
            return error_response(
                400,
                "Send the API token in the Authorization header (`Authorization: Bearer "
                "<token>`), never in the address: addresses are written to logs. Revoke the "
                "token you sent and create a new one.",
                [{"field": name[:64], "message": "must not carry an API token"}],
                code="token_in_query",
            )
    return None


def _is_json(response: HttpResponseBase) -> bool:
    return (response.get("Content-Type") or "").startswith("application/json")


def _conformed(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """An error answer in the API's shape: a JSON body with `detail`, `code` and `errors`."""
    status = response.status_code
    if status < 400:
        return response
    body: Any = None
    if _is_json(response) and not response.streaming:
        try:
            body = orjson.loads(response.content)  # type: ignore[attr-defined]
        except orjson.JSONDecodeError:
            body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str) and body.get("code"):
        fixed = response
    else:
        detail = body.get("detail") if isinstance(body, dict) else None
        errors = body.get("errors") if isinstance(body, dict) else None
        fixed = error_response(
            status,
            detail if isinstance(detail, str) else DETAILS.get(status),
            errors if isinstance(errors, list) else None,
            body.get("code") if isinstance(body, dict) else None,
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                fixed[header] = response[header]
    if status == 401 and "WWW-Authenticate" not in fixed:
        fixed["WWW-Authenticate"] = BEARER_CHALLENGE
    return fixed


class ApiContractMiddleware:
    """Keep the API's promises on every answer under /api/ (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_api(request) or request.path_info.startswith(DOCS_PATHS):
            return self.get_response(request)
        refused = _token_refusal(request) or _size_refusal(request) or _media_type_refusal(request)
        response = refused or self.get_response(request)
        return _conformed(request, response)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        """A failure is logged with its trace and answered without it (what Django answers itself,
        404, 403 and 400, is left to it, and given the API's shape on the way out)."""
        if not is_api(request) or isinstance(exc, HTTP_EXCEPTIONS):
            return None
        logger.exception(
            "API request %s %s failed (request id %s)",
            request.method,
            request.path_info[:200],
            current_request_id(),
        )
        return error_response(500, error_body(500)["detail"])
