"""Entries in the shared cache (REDIS_URL) that a change retires at once, in every process.

An entry is stored with the generation token of what it was computed from, read *before* the
database was (a reader that finds no token puts a new random one first). A writer removes the
token when it writes and again when its transaction commits. So an entry computed from rows a
change was about to replace carries a token that no longer exists, and is never used once the
change is visible: whatever the interleaving, nothing stale is served. An entry also expires,
which bounds the harm of a writer that died between its commit and the second removal, or
that ran without REDIS_URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

T = TypeVar("T")
K = TypeVar("K")


def data_gen_key(scope: int | str) -> str:
    """The generation of one seller's data version (core.datacache; 0: data of no seller)."""
    return f"data:gen:{scope}"


def data_version_key(scope: int | str) -> str:
    return f"data:version:{scope}"


# Read along with the first entry a request reads, so that a page costs one round trip for
# the user and the version of data of no seller together (see `RequestReadsMiddleware`).
_COMPANIONS = (data_gen_key(0), data_version_key(0))

# How long a generation token lives untouched: a token that expired is replaced by a new one,
# which retires the entries stored under the old (safe, and it keeps Redis from filling up
# with the tokens of users who never come back).
GEN_SECONDS = 7 * 24 * 3600

# What this request has read from the shared cache so far; None outside a request.
_request_reads: ContextVar[dict[str, Any] | None] = ContextVar("shared_reads", default=None)


def shared_cache_enabled() -> bool:
    return bool(getattr(settings, "SHARED_CACHE", False))


def guarded(gen_key: str, key: str, compute: Callable[[], T | None], seconds: int) -> T | None:
    """`compute()`, from the shared cache while `gen_key`'s generation is unchanged.

    Without a shared cache, `compute()` every time. A None result is not cached."""
    if not shared_cache_enabled():
        return compute()
    cache = caches["default"]
    reads = _request_reads.get()
    if reads is not None and gen_key in reads and key in reads:
        gen, entry = reads[gen_key], reads[key]
    else:
        keys = [gen_key, key]
        if reads is not None:
            keys += [k for k in _COMPANIONS if k not in reads and k not in keys]
        found = cache.get_many(keys)
        if reads is not None:
            reads.update({k: found.get(k) for k in keys})
        gen, entry = found.get(gen_key), found.get(key)
    if gen is not None and isinstance(entry, tuple) and entry[0] == gen:
        return entry[1]  # type: ignore[no-any-return]
    if gen is None:
        gen = uuid.uuid4().hex
        if not cache.add(gen_key, gen, GEN_SECONDS):  # a concurrent reader's token wins over ours
            gen = cache.get(gen_key)
    value = compute()
    if value is not None and gen is not None:
        cache.set(key, (gen, value), seconds)
        if reads is not None:
            reads.update({gen_key: gen, key: (gen, value)})
    return value


def guarded_many(
    entries: dict[K, tuple[str, str]], compute: Callable[[list[K]], dict[K, T]], seconds: int
) -> dict[K, T]:
    """`guarded` for several entries (name -> (generation key, key)) at once: one round trip
    reads them all, `compute(missing)` gives the others in one pass, one round trip stores
    them. Without a shared cache, `compute(all)`."""
    if not shared_cache_enabled():
        return compute(list(entries))
    cache = caches["default"]
    reads = _request_reads.get()
    keys = [k for pair in entries.values() for k in pair]
    known = {k: reads[k] for k in keys if reads is not None and k in reads}
    fetch = [k for k in keys if k not in known]
    if fetch:
        if reads is not None:
            fetch += [k for k in _COMPANIONS if k not in reads and k not in fetch]
        found = cache.get_many(fetch)
        got = {k: found.get(k) for k in fetch}
        if reads is not None:
            reads.update(got)
        known.update(got)
    out: dict[K, T] = {}
    gens: dict[K, Any] = {}
    for name, (gen_key, key) in entries.items():
        gen, entry = known.get(gen_key), known.get(key)
        if gen is not None and isinstance(entry, tuple) and entry[0] == gen:
            out[name] = entry[1]
        else:
            gens[name] = gen
    if not gens:
        return out
    for name, gen in list(gens.items()):
        if gen is None:
            gen_key = entries[name][0]
            gen = uuid.uuid4().hex
            if not cache.add(gen_key, gen, GEN_SECONDS):  # a concurrent reader's token wins
                gen = cache.get(gen_key)
            gens[name] = gen
    fresh = compute(list(gens))
    stored = {
        entries[name][1]: (gens[name], fresh[name])
        for name in gens
        if fresh.get(name) is not None and gens[name] is not None
    }
    if stored:
        cache.set_many(stored, seconds)
        if reads is not None:
            reads.update(stored)
            reads.update({entries[n][0]: gens[n] for n in gens if gens[n] is not None})
    out.update({name: fresh[name] for name in gens})
    return out


def generation_bump(gen_key: str) -> None:
    """Retire every entry under `gen_key`: now, and again when the transaction commits."""
    generations_bump([gen_key])


def generations_bump(gen_keys: list[str]) -> None:
    """Retire every entry under these generations: now, and again when the transaction
    commits (one DEL of every key each time).

    Removing the tokens, rather than writing a new one for each, makes a bump one command
    whatever the number of keys: a ledger batch of the 10,000,000-order benchmark touches
    thousands of sellers, and writing a token for each spent 6% of the importer's time."""
    if not shared_cache_enabled() or not gen_keys:
        return
    reads = _request_reads.get()
    if reads is not None:
        for gen_key in gen_keys:
            reads.pop(gen_key, None)  # read it afresh if this request needs it again

    def bump() -> None:
        caches["default"].delete_many(gen_keys)

    bump()
    transaction.on_commit(bump)


class RequestReadsMiddleware:
    """Scopes `guarded`'s per-request memo to one request: a page reads the signed-in user and
    the version of data of no seller in one round trip, each data version once
    (core.datacache), and nothing read is kept past the response."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from defectdesk.core.datacache import versions_per_request

        self.get_response = get_response
        self.versions_per_request = versions_per_request

    def __call__(self, request: Any) -> Any:
        token = _request_reads.set({})
        try:
            with self.versions_per_request():
                return self.get_response(request)
        finally:
            _request_reads.reset(token)
