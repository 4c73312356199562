"""Who may open the console: reviewers (and operators, to look) and operators; others get 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect

from defectdesk.accounts.roles import Principal, principal_for_user

View = Callable[..., HttpResponse]


def console_principal(request: HttpRequest) -> Principal:
    return principal_for_user(request.user)


def _guard(allowed: Callable[[Principal], bool]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not allowed(console_principal(request)):
                # Merchants are not told that these pages exist.
                raise Http404("Page not found.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


reviewer_page = _guard(lambda p: p.is_reviewer or p.is_operator)
"""Reviewer pages: reviewers work there, operators may look; everyone else gets 404."""

operator_page = _guard(lambda p: p.is_operator)
"""Operator pages: operators only; everyone else gets 404."""


def admin_restrict_to_operators() -> None:
    """Django admin answers only to active operators, whatever a user's is_staff flag says."""
    site = admin.site
    if getattr(site, "_defectdesk_operators_only", False):
        return
    original = site.has_permission

    def has_permission(request: HttpRequest) -> bool:
        user = request.user
        return bool(
            original(request) and user.is_authenticated and principal_for_user(user).is_operator
        )

    site.has_permission = has_permission  # type: ignore[method-assign]
    site._defectdesk_operators_only = True  # type: ignore[attr-defined]


def see_other(url: str) -> HttpResponseRedirect:
    """A 303 See Other to `url`: after a form post, the browser gets the next page."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response
