"""The REST API at /api/v1/ (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from defectdesk.api.auth import API_AUTH
from defectdesk.core.errors import DomainError

api = NinjaAPI(
    title="DefectDesk API",
    version="1",
    description=(
        "Order events in, account health and appeals out. Authenticate with "
        "`Authorization: Bearer <token>` or a signed-in session. Errors are "
        '`{"detail": "...", "errors": [{"field": "...", "message": "..."}]}`.'
    ),
    auth=API_AUTH,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _error(
    request: HttpRequest, status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, 401, "Authentication required: send `Authorization: Bearer <token>` or sign in."
    )
    response["WWW-Authenticate"] = 'Bearer realm="DefectDesk"'
    return response


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        message = err.get("msg", "is invalid")
        if err.get("type") == "missing":
            message = "is required"
        errors.append({"field": ".".join(loc) or "body", "message": message})
    return _error(request, 422, "The request is not valid.", errors)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
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
        400,
        f"This operation takes a JSON body, not {request.content_type or 'no content type'}: "
        "send Content-Type: application/json.",
        [{"field": "Content-Type", "message": "must be application/json"}],
    )


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "The request body is too large.")


_REGISTERED: list[bool] = []


def register_routers() -> None:
    """Mount every area's router (once, from urls.py; a repeated import is harmless)."""
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
