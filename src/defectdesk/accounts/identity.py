"""A signed-in user's account, roles and unread count, kept in the shared cache.

Every page needs them, and each took a database round trip per request. With a shared cache
(REDIS_URL) they are read from it instead, under a generation of the user's that any change
to the user, their memberships or staff roles, or their notifications replaces
(`core.shared`): a revoked role or a deactivated account is refused on the very next request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from defectdesk.core.shared import generation_bump, guarded

T = TypeVar("T")

# Also the longest a change made by a process without REDIS_URL can go unseen.
ENTRY_SECONDS = 60


def identity_cached(user_id: Any, part: str, compute: Callable[[], T | None]) -> T | None:
    """`compute()` for this user, from the shared cache while the user has not changed."""
    return guarded(f"identity:gen:{user_id}", f"identity:{part}:{user_id}", compute, ENTRY_SECONDS)


# What else every page reads with the signed-in user, loaded with it into the same cache entry.
# Packages above accounts add theirs in their AppConfig.ready() (notify: the unread count).
_USER_PRELOADS: list[Callable[[Any], None]] = []


def user_preload_register(preload: Callable[[Any], None]) -> None:
    """Have `preload(user)` run whenever the signed-in user is loaded into the shared cache."""
    if preload not in _USER_PRELOADS:
        _USER_PRELOADS.append(preload)


def user_preloads_run(user: Any) -> None:
    for preload in _USER_PRELOADS:
        preload(user)


def identity_changed(user_id: Any) -> None:
    """The user, their roles or their notifications change in this transaction."""
    generation_bump(f"identity:gen:{user_id}")
