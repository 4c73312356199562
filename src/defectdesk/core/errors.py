"""Domain errors: each carries the HTTP status it maps to and the fields it names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of an input."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class DomainError(Exception):
    """A refusal that names what is wrong; `status` is its HTTP status code."""

    detail: str
    errors: list[FieldError] = field(default_factory=list)
    status: int = 400
    code: str = ""  # a precise machine-readable code; else the API derives one from the status

    def __str__(self) -> str:
        if not self.errors:
            return self.detail
        parts = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{self.detail} ({parts})"

    def as_dict(self) -> dict[str, object]:
        return {"detail": self.detail, "errors": [e.as_dict() for e in self.errors]}


class BadRequest(DomainError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors or [], 400)


class ValidationFailed(DomainError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors or [], 422)


class NotFound(DomainError):
    def __init__(self, detail: str = "Not found.") -> None:
        super().__init__(detail, [], 404)


def one_or_not_found(rows: QuerySet[M], pk: int, detail: str) -> M:
    """The row of `rows` with this primary key; NotFound(detail) when there is none (so an
    unknown row and one the caller may not see are told apart by nobody)."""
    found = rows.filter(pk=pk).first()
    if found is None:
        raise NotFound(detail)
    return found


class Forbidden(DomainError):
    def __init__(self, detail: str = "You do not have permission to do that.") -> None:
        super().__init__(detail, [], 403)


class Conflict(DomainError):
    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors or [], 409)


class InvalidTransition(Conflict):
    """A state change that the transitions table does not allow from the current state."""


class TooLarge(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, [], 413)


class Unavailable(DomainError):
    """A service the request needs (the evidence store) cannot be reached: try again later."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail, errors or [], 503)
