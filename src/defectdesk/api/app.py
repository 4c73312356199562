"""The REST API at /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

import threading
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from defectdesk.api.auth import API_AUTH
from defectdesk.api.contract import BEARER_CHALLENGE
from defectdesk.api.errors import error_body
from defectdesk.api.openapi import contract_complete
from defectdesk.api.schemas import json_loads
from defectdesk.core.errors import DomainError


class JsonParser(Parser):
    """JSON bodies read with orjson, which refuses nesting deeper than 1,024 levels (a deeply
    nested body is a 400, not a RecursionError)."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json_loads(request.body)


class DefectDeskAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        contract_complete(schema)
        return schema


api = DefectDeskAPI(
    title="DefectDesk API",
    version="1",
    description=(
        "Order events in, account health and appeals out. Authenticate with "
        "`Authorization: Bearer <token>` (never in the address) or a signed-in session. "
        'Errors are `{"detail": "...", "code": "...", "errors": [{"field": "...", '
        '"message": "..."}]}` with a stable `code`. Every POST takes an `Idempotency-Key`; '
        "token-authenticated requests are rate limited (`RateLimit-*` headers, 429 with "
        "`Retry-After`)."
    ),
    auth=API_AUTH,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    parser=JsonParser(),
)


def _error(
    request: HttpRequest,
    status: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    code: str | None = None,
) -> HttpResponse:
    return api.create_response(request, error_body(status, detail, errors, code), status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """A refusal naming fields is a 422 (`invalid`) in the API, wherever the value came from
    (query, path or body); a 400 is kept for a request that could not be read."""
    errors = [e.as_dict() for e in exc.errors]
    status = exc.status
    if status == 400 and errors and not exc.code:
        status = 422
    response = _error(request, status, exc.detail, errors, exc.code or None)
    if status == 401:
        response["WWW-Authenticate"] = BEARER_CHALLENGE
    return response


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, 401, "Authentication required: send `Authorization: Bearer <token>` or sign in."
    )
    response["WWW-Authenticate"] = BEARER_CHALLENGE
    return response


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ())]
        # ("body", <the operation's body parameter>, field, ...) names the field
        loc = (
            loc[2:] if loc[:1] == ["body"] else loc[1:] if loc[:1] in (["query"], ["path"]) else loc
        )
        message = err.get("msg", "is invalid")
        if err.get("type") == "missing":
            message = "is required"
        errors.append({"field": ".".join(loc) or "body", "message": message})
    return _error(request, 422, "The request is not valid.", errors)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, DomainError):
        return on_domain_error(request, exc.__cause__)
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # The JSON parser's own words: say what is wrong, and never echo the body.
        cause = exc.__cause__
        deep = (
            isinstance(cause, RecursionError) or "depth" in str(cause) or "recursion" in str(cause)
        )
        message = "nested too deeply" if deep else "must be a JSON document"
        return _error(
            request,
            400,
            "The request body is not valid JSON.",
            [{"field": "body", "message": message}],
        )
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(RawPostDataException)
def on_body_read(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    return _error(
        request,
        415,
        f"This operation takes a JSON body, not {request.content_type or 'no content type'}: "
        "send Content-Type: application/json.",
        [{"field": "Content-Type", "message": "must be application/json"}],
    )


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "The request body is too large.")


_REGISTERED: list[bool] = []


_REGISTERING = threading.RLock()


def register_routers() -> None:
    """Mount every area's router (once, from urls.py or the first look at the document; a
    repeated call, from any thread, is harmless)."""
    with _REGISTERING:
        if _REGISTERED:
            return
        _REGISTERED.append(True)
        from defectdesk.api import events

        api.add_router("/", events.router)
        from defectdesk.api import appeals

        api.add_router("/", appeals.router)
        from defectdesk.api import health

        api.add_router("/", health.router)
        from defectdesk.api import metric_lists

        api.add_router("/", metric_lists.router)
        from defectdesk.api import defects

        api.add_router("/", defects.router)
        from defectdesk.api import orders

        api.add_router("/", orders.router)
        from defectdesk.api import webhook_endpoints

        api.add_router("/", webhook_endpoints.router)
