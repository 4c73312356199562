"""Page-number pagination shared by the list endpoints (`?page=`, `?page_size=`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet

from defectdesk.api.schemas import MAX_PAGE_SIZE
from defectdesk.core.errors import FieldError, ValidationFailed


def page_errors(page: int, page_size: int) -> list[FieldError]:
    """What is wrong with a page number and size (nothing: an empty list)."""
    errors = []
    if page < 1:
        errors.append(FieldError("page", "must be 1 or more"))
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        errors.append(FieldError("page_size", f"must be between 1 and {MAX_PAGE_SIZE}"))
    return errors


def paginate(
    rows: QuerySet[Any] | Sequence[Any],
    page: int,
    page_size: int,
    serialize: Callable[[list[Any]], list[Any]],
) -> dict[str, Any]:
    """`{"items", "count", "page", "page_size"}` for one page; bad numbers are a 422."""
    errors = page_errors(page, page_size)
    if errors:
        raise ValidationFailed("The page is not valid.", errors)
    count = rows.count() if isinstance(rows, QuerySet) else len(rows)
    start = (page - 1) * page_size
    return {
        "items": serialize(list(rows[start : start + page_size])),
        "count": count,
        "page": page,
        "page_size": page_size,
    }
