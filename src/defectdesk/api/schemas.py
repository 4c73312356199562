"""Shared API schemas."""

from __future__ import annotations

from ninja import Schema


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """The documented error responses of an endpoint."""
    return dict.fromkeys(codes, ErrorOut)
