"""Read replica: merchant and console page reads may go to a streaming replica of the primary.

Only GET and HEAD requests for web pages read from it, and only the ledger-side tables
(orders, defects, metrics, appeals, messages, policy); accounts, sessions, sign-in, jobs and the
audit trail are always read from the primary. A request that writes, and every request of the
same browser for REPLICA_STICKY_SECONDS after one that wrote, reads from the primary, so people
see their own changes. When the replica cannot be reached, reads fall back to the primary for
REPLICA_RETRY_SECONDS, and a page that failed on it is served again from the primary.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("defectdesk.replica")

REPLICA = "replica"
STICKY_COOKIE = "dd_primary"
READ_METHODS = frozenset({"GET", "HEAD"})
REPLICA_APPS = frozenset({"ledger", "defects", "metrics", "appeals", "messaging", "policy"})
"""Apps whose tables a page may read from the replica: data a seller's own actions do not
change between two of their requests, other than through a write that makes them sticky."""
REPLICA_MODELS = frozenset({"core.datachange"})
"""Models of other apps read from the replica along with those: the data versions that page
caches are keyed on (core.datacache) must come from the database the page's data does."""
PRIMARY_PATHS = (
    "/api/",
    "/admin/",
    "/webhooks/",
    "/signin/",
    "/signout/",
    "/two-factor/",
    "/password/",
    "/healthz",
    "/readyz",
    "/static/",
)
"""Never from the replica: the API (token clients send no cookie to stay sticky with), sign-in
and account pages, probes."""


@dataclass
class _ReadState:
    allowed: bool
    wrote: bool = False
    checked: bool = False
    used: bool = False
    retried: bool = False


_state: ContextVar[_ReadState | None] = ContextVar("replica_reads", default=None)
_down_until = 0.0


def replica_configured() -> bool:
    """Whether a replica database is configured."""
    return REPLICA in settings.DATABASES


def replica_mark_down(reason: str) -> None:
    """Read from the primary for REPLICA_RETRY_SECONDS, then try the replica again."""
    global _down_until
    _down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()
    logger.warning(
        "read replica unavailable (%s); reading from the primary for %s s",
        reason,
        settings.REPLICA_RETRY_SECONDS,
    )


def _replica_usable(state: _ReadState) -> bool:
    """Connect to the replica once per request (a dead connection is replaced first)."""
    if state.checked:
        return state.allowed
    state.checked = True
    if time.monotonic() < _down_until:
        state.allowed = False
        return False
    connection = connections[REPLICA]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError as exc:
        replica_mark_down(str(exc).strip().splitlines()[0] if str(exc).strip() else "error")
        state.allowed = False
        return False
    return True


class ReplicaRouter:
    """Send a page's ledger-side reads to the replica when the request allows it."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        state = _state.get()
        if (
            state is None
            or not state.allowed
            or (
                model._meta.app_label not in REPLICA_APPS
                and model._meta.label_lower not in REPLICA_MODELS
            )
            # Reads inside a transaction belong with it.
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
            or not _replica_usable(state)
        ):
            # Named explicitly: otherwise Django would follow an instance read from the replica.
            return DEFAULT_DB_ALIAS
        state.used = True
        return REPLICA

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        state = _state.get()
        if state is not None:
            # The rest of this request, and the browser's next few, read their own writes.
            state.wrote = True
            state.allowed = False
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA


def _eligible(request: HttpRequest) -> bool:
    return (
        request.method in READ_METHODS
        and STICKY_COOKIE not in request.COOKIES
        and not request.path_info.startswith(PRIMARY_PATHS)
    )


class ReplicaReadsMiddleware:
    """Decide per request whether its reads may use the replica; keep writers on the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = _ReadState(allowed=_eligible(request))
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        request.read_database = REPLICA if state.used else DEFAULT_DB_ALIAS  # type: ignore[attr-defined]
        if state.wrote or request.method not in READ_METHODS:
            response.set_cookie(
                STICKY_COOKIE,
                "1",
                max_age=settings.REPLICA_STICKY_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A page read that failed on the replica is served again from the primary."""
        state = _state.get()
        if (
            state is None
            or not state.used
            or state.retried
            or state.wrote
            or not isinstance(exception, (OperationalError, InterfaceError))
        ):
            return None
        replica_mark_down(str(exception).strip().splitlines()[0] if str(exception) else "error")
        state.retried = True
        state.allowed = False
        state.used = False
        return self.get_response(request)
