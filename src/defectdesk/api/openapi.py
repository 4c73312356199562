"""The served OpenAPI document, completed with what every operation shares: the error answers
it can give, the headers it reads and sends, its token scope and the tags' descriptions."""

from __future__ import annotations

import copy
import threading
from functools import cache
from typing import Any

from defectdesk.api.errors import ALL_CODES, PRECISE_CODES

TAGS: list[dict[str, str]] = [
    {"name": "events", "description": "Order events into the ledger (the ingest scope)."},
    {
        "name": "health",
        "description": "Account health: each metric as of a day, its history, the orders "
        "behind each number and why it moved.",
    },
    {"name": "orders", "description": "Orders, at-risk orders and replies to buyers."},
    {"name": "defects", "description": "The defects counted against a seller."},
    {
        "name": "appeals",
        "description": "A merchant's appeals of defects: drafts, files, submission, replies to "
        "information requests and the appeal packet.",
    },
    {"name": "review", "description": "The reviewers' queue and decisions (the review scope)."},
    {"name": "notifications", "description": "The signed-in user's in-app notifications."},
    {"name": "webhooks", "description": "Endpoints that receive DefectDesk's events (operators)."},
]

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every error answer. `code` is stable and machine-readable: "
    + "; ".join(f"`{code}`: {text}" for code, text in PRECISE_CODES.items())
    + "; else it names the status (`not_found`, `invalid`, `conflict`, `rate_limited`, ...).",
    "properties": {
        "detail": {"type": "string", "description": "What is wrong, for a person."},
        "code": {"type": "string", "enum": ALL_CODES},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
    },
    "required": ["detail", "code", "errors"],
}

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request could not be read: malformed JSON, a NUL character, or a token in the "
    "address",
    401: "No valid token or session (carries `WWW-Authenticate: Bearer`)",
    403: "The token or user may not do this (its scope or role)",
    404: "No such resource, or not one the caller may see",
    409: "A conflict with the current state, or a request with the same Idempotency-Key still "
    "running",
    413: "The request body is too large",
    415: "The body's media type is not one the operation takes",
    422: "A value is not valid (each field named in `errors`), or an Idempotency-Key reused "
    "with another request",
    429: "Over the rate limit: retry after `Retry-After` seconds",
    500: "The server failed; the answer names no internals, the log has the request's id",
}

HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (the one sent, when valid), also in logs and audit events",
        "schema": {"type": "string", "maxLength": 64},
    },
    "RateLimit-Limit": {
        "description": "Requests allowed in the current window (token-authenticated requests)",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the window resets",
        "schema": {"type": "integer", "minimum": 0},
    },
}

RETRY_AFTER = {
    "description": "Seconds to wait before retrying",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID, say): the same key with the same request within "
    "24 hours returns the stored answer without acting again (with `Idempotent-Replayed: "
    "true`); the same key with another request is a 422. Keys are kept per token (per user for "
    "a signed-in session).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}

SCOPE_KEY = "x-token-scope"


def token_scope(text: str) -> dict[str, Any]:
    """The `openapi_extra` of an operation that names the token scope it needs."""
    return {SCOPE_KEY: text}


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _responses(operation: dict[str, Any]) -> dict[str, Any]:
    """The responses keyed by the status as a string, entries for one status merged."""
    merged: dict[str, Any] = {}
    for status, entry in operation.get("responses", {}).items():
        key = str(status)
        if key in merged:
            _merge(merged[key], entry)
        else:
            merged[key] = copy.deepcopy(entry)
    return merged


def _error_entry(status: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS.get(status, "An error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        entry["headers"] = {"Retry-After": RETRY_AFTER}
    if status == 401:
        entry["headers"] = {
            "WWW-Authenticate": {
                "description": "The Bearer challenge",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    return entry


def _complete_operation(method: str, operation: dict[str, Any]) -> None:
    responses = _responses(operation)
    statuses = {400, 404, 422, 500}
    if operation.get("security"):
        statuses |= {401, 403, 429}
    if operation.get("requestBody"):
        statuses |= {413, 415}
    if method == "post":
        statuses |= {409}
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == IDEMPOTENCY_KEY["name"] for p in parameters):
            parameters.append(copy.deepcopy(IDEMPOTENCY_KEY))
    for status in sorted(statuses | {int(s) for s in responses if s.isdigit() and s >= "400"}):
        key = str(status)
        if key not in responses:
            responses[key] = _error_entry(status)
        else:
            entry = responses[key]
            entry["description"] = ERROR_DESCRIPTIONS.get(status, entry.get("description", ""))
            entry["content"] = _error_entry(status)["content"]
            if status in (401, 429):
                entry["headers"] = _error_entry(status)["headers"]
    for entry in responses.values():
        headers = entry.setdefault("headers", {})
        for name, header in HEADER_SCHEMAS.items():
            headers.setdefault(name, copy.deepcopy(header))
        headers["X-Request-ID"]["required"] = True
    operation["responses"] = dict(sorted(responses.items()))
    scope = operation.get(SCOPE_KEY)
    if scope:
        operation["description"] = (
            f"{operation.get('description', '').strip()}\n\n**Token scope:** {scope}".strip()
        )


def contract_complete(schema: dict[str, Any]) -> dict[str, Any]:
    """The document ninja builds, completed in place (see the module's docstring)."""
    used_tags: list[str] = []
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            _complete_operation(method, operation)
            used_tags += [t for t in operation.get("tags", []) if t not in used_tags]
    known = {t["name"] for t in TAGS}
    schema["tags"] = [t for t in TAGS if t["name"] in used_tags] + [
        {"name": t} for t in used_tags if t not in known
    ]
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("ErrorOut", None)  # every error answer now refers to Error
    schemas["Error"] = ERROR_SCHEMA
    return schema


_SERVED = threading.Lock()


@cache
def served_schema() -> dict[str, Any]:
    """The document served at /api/v1/openapi.json (built once, by one thread)."""
    from defectdesk.api.app import api, register_routers

    register_routers()  # before the URLs are first resolved, the routers are not yet mounted
    with _SERVED:
        return copy.deepcopy(dict(api.get_openapi_schema(path_prefix="/api/v1/")))
