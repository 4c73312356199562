"""Sign-in throttling (django-axes): the client address, and attempts without a request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address sign-in attempts are counted by.

    The proxy's X-Forwarded-For (the address it saw, last in the list) only when the operator
    says a proxy sets it (BEHIND_PROXY); otherwise the connection's own address, so that a client
    cannot choose its address by sending the header."""
    if settings.BEHIND_PROXY:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1][:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


class SignInThrottleBackend(AxesStandaloneBackend):
    """Refuse a locked-out account and address before any password is checked.

    An attempt without a request (a management command, a test client's login) has no address
    to count and is left to the next backend."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username=username, password=password, **kwargs)
        return None
