"""A signed-in user's account, roles and unread count, kept in the shared cache.

Every page needs them, and each took a database round trip per request. With a shared cache
(settings.SHARED_CACHE) they are read from it instead. Each user has a generation token that
any change to the user, their memberships or staff roles, or their notifications replaces; an
entry is stored with the generation read *before* the database was, and used only while that
is still the user's generation. A change that lands while an entry is being computed therefore
makes the entry unusable at once: nothing stale is ever served, whatever the interleaving.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

# Bounds memory only: a changed user is caught by the generation, not by expiry.
ENTRY_SECONDS = 600


def _gen_key(user_id: Any) -> str:
    return f"identity:gen:{user_id}"


def shared() -> bool:
    return bool(getattr(settings, "SHARED_CACHE", False))


def identity_cached(user_id: Any, part: str, compute: Callable[[], T | None]) -> T | None:
    """`compute()` for this user, from the shared cache while the user has not changed.

    Without a shared cache, `compute()` every time. A None result is not cached."""
    if not shared():
        return compute()
    gen_key, key = _gen_key(user_id), f"identity:{part}:{user_id}"
    found = cache.get_many([gen_key, key])
    gen = found.get(gen_key)
    entry = found.get(key)
    if gen is not None and isinstance(entry, tuple) and entry[0] == gen:
        return entry[1]  # type: ignore[no-any-return]
    if gen is None:
        gen = uuid.uuid4().hex
        # add: a generation set by a concurrent change wins over ours.
        if not cache.add(gen_key, gen, None):
            gen = cache.get(gen_key)
    value = compute()
    if value is not None and gen is not None:
        cache.set(key, (gen, value), ENTRY_SECONDS)
    return value


def identity_changed(user_id: Any) -> None:
    """The user, their roles or their notifications changed: drop every cached entry.

    The generation is replaced now and again when the transaction commits, so that a request
    that read the old rows before the commit cannot store them under the new generation."""
    if not shared():
        return

    def bump() -> None:
        cache.set(_gen_key(user_id), uuid.uuid4().hex, None)

    bump()
    transaction.on_commit(bump)
