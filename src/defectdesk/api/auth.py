"""API authentication: a bearer token, or the web session (with its CSRF check)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from defectdesk.accounts.roles import Principal, principal_for_token, principal_for_user
from defectdesk.accounts.tokens import token_authenticate
from defectdesk.accounts.two_factor import refuse_unverified_api_session
from defectdesk.api.contract import is_api
from defectdesk.api.ratelimit import bearer_token
from defectdesk.core.errors import DomainError


class TokenAuth(HttpBearer):
    openapi_description = "An API token: `Authorization: Bearer dd_...`"

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        found = bearer_token(request) if is_api(request) else token_authenticate(token)
        if found is None:
            return None
        return principal_for_token(found)


class SessionAuth(APIKeyCookie):
    """The signed-in web user; unsafe methods need the CSRF token as for any form."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        """Check CSRF only for a signed-in session: a write without one is a 401, not a 403."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Principal | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        refuse_unverified_api_session(request)
        return principal_for_user(user)


API_AUTH: list[Any] = [TokenAuth(), SessionAuth()]


def principal(request: HttpRequest) -> Principal:
    """The authenticated principal of an API request."""
    found = getattr(request, "auth", None)
    if not isinstance(found, Principal):
        raise DomainError("Authentication required.", status=401)
    return found
