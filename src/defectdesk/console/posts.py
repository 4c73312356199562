"""A console page's form post, handled one way: the form parses, the action decides, and a
refusal of either is shown on the page (its detail as a message, each field's by its field)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.contrib import messages
from django.http import HttpRequest

from defectdesk.core.errors import DomainError
from defectdesk.web.forms import PageForm

T = TypeVar("T")


def field_errors(exc: DomainError) -> dict[str, str]:
    """An action's refusal as the console's pages show it: one message by field."""
    return {e.field: e.message for e in exc.errors}


@dataclass
class Posted(Generic[T]):
    """What a page's post came to: the action's result, or the refusal to show (no result)."""

    done: T | None = None
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200


def form_post(
    request: HttpRequest, form: PageForm, refused: str, act: Callable[[dict[str, Any]], T]
) -> Posted[T]:
    """Run `act` on the form's values when it was posted and is valid. A refusal, the form's
    (`refused` is its detail) or the action's, is told as a message and returned with its
    field messages and status; nothing was posted (a GET) returns an empty `Posted`."""
    if not form.is_bound:
        return Posted()
    try:
        if not form.is_valid():
            raise form.refusal(refused)
        return Posted(done=act(form.cleaned_data))
    except DomainError as exc:
        messages.error(request, exc.detail)
        return Posted(errors=field_errors(exc), status=exc.status)
