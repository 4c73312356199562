"""Entries in the shared cache (REDIS_URL) that a change retires at once, in every process.

An entry is stored with the generation token of what it was computed from, read *before* the
database was. A writer replaces the token when it writes and again when its transaction
commits. So an entry computed from rows a change was about to replace carries the old token,
and is never used once the change is visible: whatever the interleaving, nothing stale is
served. An entry also expires, which bounds the harm of a writer that died between its commit
and the second replacement, or that ran without REDIS_URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

T = TypeVar("T")

# The generation of everything keyed by the data version (see metrics.version).
DATA_GEN_KEY = "data:gen"


def shared_cache_enabled() -> bool:
    return bool(getattr(settings, "SHARED_CACHE", False))


def guarded(gen_key: str, key: str, compute: Callable[[], T | None], seconds: int) -> T | None:
    """`compute()`, from the shared cache while `gen_key`'s generation is unchanged.

    Without a shared cache, `compute()` every time. A None result is not cached."""
    if not shared_cache_enabled():
        return compute()
    cache = caches["default"]
    found = cache.get_many([gen_key, key])
    gen, entry = found.get(gen_key), found.get(key)
    if gen is not None and isinstance(entry, tuple) and entry[0] == gen:
        return entry[1]  # type: ignore[no-any-return]
    if gen is None:
        gen = uuid.uuid4().hex
        if not cache.add(gen_key, gen, None):  # a concurrent change's token wins over ours
            gen = cache.get(gen_key)
    value = compute()
    if value is not None and gen is not None:
        cache.set(key, (gen, value), seconds)
    return value


def generation_bump(gen_key: str) -> None:
    """Retire every entry under `gen_key`: now, and again when the transaction commits."""
    if not shared_cache_enabled():
        return

    def bump() -> None:
        caches["default"].set(gen_key, uuid.uuid4().hex, None)

    bump()
    transaction.on_commit(bump)


def data_changed() -> None:
    """The ledger or the audit log is written in this transaction (see metrics.version)."""
    generation_bump(DATA_GEN_KEY)
