"""Shared API schemas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import orjson
from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import ConfigDict
from pydantic import ValidationError as PydanticError
from pydantic.json_schema import JsonDict, JsonValue

from defectdesk.api.errors import ALL_CODES
from defectdesk.core.errors import DomainError, FieldError, ValidationFailed

MAX_PAGE = 1_000_000
"""The highest page number a list accepts (its offset stays far inside the database's range)."""
MAX_PAGE_SIZE = 200
MAX_ID = 2**63 - 1
"""The largest id the database stores; a larger one is refused before any query."""


DAY: JsonDict = {"format": "date"}
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
"""A day as YYYY-MM-DD (an empty value is refused, not taken for the default)."""


def enum_of(values: Iterable[JsonValue]) -> JsonDict:
    """The OpenAPI `enum` of a string field validated against a declaration elsewhere."""
    items: list[JsonValue] = list(values)
    return {"enum": items}


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    code: str = Field(json_schema_extra=enum_of(ALL_CODES))
    errors: list[FieldErrorOut] = []


class InputSchema(Schema):
    """A request body whose fields are all declared: an unknown field is a 422."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="1 for the first page")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """The documented error responses of an endpoint."""
    return dict.fromkeys(codes, ErrorOut)


class MalformedJson(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The body is not valid JSON: {reason}.",
            [FieldError("body", "must be valid JSON")],
            400,
            "malformed_json",
        )


def json_loads(raw: bytes) -> object:
    """A JSON body read with orjson, which refuses nesting deeper than 1,024 levels."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(str(exc).split(":")[0]) from None


Model = TypeVar("Model", bound=Schema)


def json_body(request: HttpRequest, model: type[Model], *, optional: bool = False) -> Model:
    """The request's JSON body checked against `model` (an empty body is `{}` when optional)."""
    raw = request.body
    sent_json = (request.content_type or "").endswith("json") and raw.strip()
    data = json_loads(raw) if sent_json or not optional else {}
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "body", e["msg"])
            for e in exc.errors(include_url=False)
        ]
        raise ValidationFailed("The request is not valid.", errors) from None
