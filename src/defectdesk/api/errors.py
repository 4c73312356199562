"""The one error shape of the API: `{"detail", "code", "errors"}`, with a stable `code`."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse

CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}
"""The code of an error, by its HTTP status, unless a more precise one below applies."""

PRECISE_CODES: dict[str, str] = {
    "malformed_json": "the body is not valid JSON (or is nested too deeply)",
    # nosec B105 # an error code and its explanation, not a secret
    "token_in_query": "an API token was sent in the address instead of the Authorization header",
    "idempotency_key_reused": "the Idempotency-Key was used before with another request",
    "idempotency_in_progress": "the first request with this Idempotency-Key is still running",
}

ALL_CODES: list[str] = sorted({*CODES.values(), *PRECISE_CODES})

DETAILS: dict[int, str] = {
    400: "The request could not be read.",
    401: "Authentication required: send `Authorization: Bearer <token>` or sign in.",
    403: "You do not have permission to do that.",
    404: "Not found.",
    405: "This method is not allowed here.",
    406: "This resource cannot answer in the media type asked for.",
    409: "The request conflicts with the current state.",
    413: "The request body is too large.",
    415: "This media type is not accepted here.",
    422: "The request is not valid.",
    429: "Too many requests.",
    500: "The server failed to answer this request; it is logged under the request's id.",
    503: "The service is unavailable; retry later.",
}

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def code_for(status: int) -> str:
    """The code of a status without a precise one: its own, else that of its class."""
    return CODES.get(status) or ("server_error" if status >= 500 else "bad_request")


def error_body(
    status: int,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {
        "detail": detail or DETAILS.get(status, "The request failed."),
        "code": code or code_for(status),
        "errors": errors or [],
    }


def error_response(
    status: int,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    code: str | None = None,
) -> HttpResponse:
    """An error answer in the API's shape."""
    body = orjson.dumps(error_body(status, detail, errors, code))
    return HttpResponse(body, status=status, content_type=JSON_CONTENT_TYPE)
