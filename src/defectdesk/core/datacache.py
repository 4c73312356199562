"""The one cache seam: results kept per process, keyed on the data version of what they show.

A seller's pages show that seller's data, so they are keyed on that seller's own version: a
change to seller A is on A's pages at once, and leaves B's entries in place. Data that belongs
to no seller (marketplaces, policies, accounts) has a version of its own, part of every
seller's. Pages that span sellers (the review queue's counts, every seller's status) are keyed
on the version of every seller.

Versions. Every transaction that changes a seller's data (a ledger event, an audited action)
appends one `DataChange` row for the seller in the same transaction (`data_changed`); a change
to data of no seller appends one for seller 0 (`SHARED`). Each such transaction also appends one
row for seller -1 (`EVERY_ROW`), whose rows make the version of every seller's data: one short
index range to read, where summing every seller's rows was a scan of the whole table (124 ms a
read on the 1,000,000-order ledger under load, read by every page that spans sellers). A row's
weight is a random positive number; a version is the sum of the weights and the largest id of
its rows.
- Appending takes no lock: writers never wait on each other (nor on ingestion's locks) for it.
- The sum grows with every commit whatever order concurrent writers commit in (an id alone
  would not: a lower id can commit after a higher one).
- Being random, the sum tells apart what a transaction that then rolled back saw from what a
  later one commits (SQLite hands a rolled-back id out again).
- The version is read from the database the page reads (the replica, when it does), so an
  entry is never keyed newer than its data.
- `data_changes_fold` (a periodic job) folds each seller's rows into one with the same sum and
  largest id: versions do not change, and reading one stays a short index range.

With a shared cache (REDIS_URL), versions are read from it under a generation token per seller
that every writer removes (`core.shared.guarded_many`), so a cached page makes no database query;
a request reads each version at most once either way.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar, cast

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import get_language

from defectdesk.core.bulk import bulk_insert
from defectdesk.core.models import DataChange
from defectdesk.core.shared import (
    data_gen_key,
    data_version_key,
    generations_bump,
    guarded_many,
    shared_cache_enabled,
)

T = TypeVar("T")

SHARED = 0  # the "seller" of data that belongs to no seller
EVERY = "all"  # the version of every seller's data
EVERY_ROW = -1  # the "seller" of the rows that make EVERY's version
# Bounds how long a version kept in the shared cache can outlive a change whose writer died
# between its commit and telling the shared cache (or ran without REDIS_URL).
VERSION_ENTRY_SECONDS = 10
# Random weights: two different changes weigh the same once in two billion times, and a sum of
# them stays far from 64 bits even before rows are folded.
WEIGHT_BELOW = 2**31


@dataclass(frozen=True, slots=True)
class Shows:
    """Whose data a cached result shows: some sellers' (ids), every seller's (None), or
    nothing beyond what its key names (`versioned=False`: a rendered header or page)."""

    ids: tuple[int, ...] | None
    versioned: bool = True


def shows_seller(seller_id: int) -> Shows:
    return Shows((int(seller_id),))


def shows_sellers(seller_ids: Iterable[int]) -> Shows:
    return Shows(tuple(sorted({int(s) for s in seller_ids})))


SHOWS_SHARED = Shows(())  # marketplaces, policies: data of no seller
SHOWS_EVERY_SELLER = Shows(None)
SHOWS_ONLY_KEY = Shows((), versioned=False)

# The versions this request has read (None outside a request: read each time).
_memo: ContextVar[dict[int | str, str] | None] = ContextVar("data_versions", default=None)


@contextmanager
def versions_per_request() -> Iterator[None]:
    """Within this block, each version is read once (a write in it reads them afresh)."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def data_changed(seller_ids: Iterable[int | None]) -> None:
    """Record, in the writer's transaction, that these sellers' data changes (None: data of
    no seller). Every writer calls it: `core.audit.audit_record` and ledger ingestion."""
    ids = sorted({SHARED if s is None else int(s) for s in seller_ids})
    if not ids:
        return
    # One COPY: a ledger batch at marketplace scale changes thousands of sellers at once.
    bulk_insert(
        DataChange._meta.db_table,
        ["seller_id", "weight"],
        [(i, 1 + secrets.randbelow(WEIGHT_BELOW)) for i in (EVERY_ROW, *ids)],
        prepared=True,
    )
    memo = _memo.get()
    if memo is not None:
        memo.clear()
    if shared_cache_enabled():
        generations_bump([*(data_gen_key(i) for i in ids), data_gen_key(EVERY)])


def version_of(shows: Shows) -> str:
    """The version of the data `shows` names ("" for a result keyed by its parts alone)."""
    if not shows.versioned:
        return ""
    if shows.ids is None:
        return f"{EVERY}:{_versions([EVERY])[EVERY]}"
    ids: list[int | str] = sorted({SHARED, *shows.ids})
    found = _versions(ids)
    return ",".join(f"{i}:{found[i]}" for i in ids)


def cached(name: str, shows: Shows, parts: object, compute: Callable[[], T], seconds: int) -> T:
    """`compute()`, kept in this process's cache while the data it shows is unchanged.

    What it buys, measured on the 2-core machine (bench/web.py's ledger at 100,000 orders,
    PostgreSQL, the busiest seller's 19,754 orders): computing Account health's body costs
    88 ms of CPU or more, a kept one 0.6 ms (reading the seller's version, one indexed query,
    is 0.3 ms of it; with REDIS_URL it comes from Redis). Keyed per seller, an import for
    other sellers no longer makes this seller's next page pay the 88 ms again.

    The key holds `name`, the version of what `shows` names, `parts` (what else the result
    depends on: filters, a day, a page) and the active language and time zone (results are
    often rendered text). Any change to that data changes the version, so a stale entry is
    never read again; `seconds` bounds memory, and how long a time-dependent result (a
    deadline passing) may lag. `compute()` must not return None.
    """
    local = caches["local"]
    key = _key(name, version_of(shows), parts)
    found = local.get(key)
    if found is not None:
        return cast(T, found)
    value = compute()
    local.set(key, value, seconds)
    return value


def cached_each(
    name: str,
    parts: object,
    seller_ids: Iterable[int],
    compute: Callable[[list[int]], dict[int, T]],
    seconds: int,
) -> dict[int, T]:
    """`cached` for several sellers at once, one entry per seller under its own version:
    `compute(missing)` returns the results of the sellers not cached, in one pass."""
    wanted = sorted({int(s) for s in seller_ids})
    if not wanted:
        return {}
    versions = _versions([SHARED, *(s for s in wanted if s != SHARED)])
    keys = {s: _key(name, f"{SHARED}:{versions[SHARED]},{s}:{versions[s]}", parts) for s in wanted}
    local = caches["local"]
    stored = local.get_many(list(keys.values()))
    out = {s: cast(T, stored[k]) for s, k in keys.items() if k in stored}
    missing = [s for s in wanted if s not in out]
    if missing:
        fresh = compute(missing)
        local.set_many({keys[s]: fresh[s] for s in missing}, seconds)
        out.update({s: fresh[s] for s in missing})
    return out


def data_changes_fold() -> int:
    """Fold each seller's change rows into one with the same sum and largest id (versions
    are unchanged); returns the sellers folded. Safe beside writers: they only insert."""
    folded = 0
    with transaction.atomic():
        many = list(
            DataChange.objects.values("seller_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .order_by("seller_id")
            .values_list("seller_id", flat=True)
        )
        for seller_id in many:
            rows = DataChange.objects.select_for_update().filter(seller_id=seller_id)
            found = list(rows.values_list("id", "weight"))
            if len(found) < 2:
                continue
            DataChange.objects.filter(id__in=[pk for pk, _ in found]).delete()
            DataChange.objects.create(
                id=max(pk for pk, _ in found),
                seller_id=seller_id,
                weight=sum(w for _, w in found),
            )
            folded += 1
    return folded


def _key(name: str, version: str, parts: object) -> str:
    shown = repr((version, parts, get_language(), timezone.get_current_timezone_name()))
    return f"{name}:{hashlib.sha256(shown.encode()).hexdigest()[:40]}"


def _versions(scopes: list[int | str]) -> dict[int | str, str]:
    """The versions of these sellers (or EVERY), each read at most once per request."""
    memo = _memo.get()
    found: dict[int | str, str] = {}
    missing = []
    for scope in scopes:
        if memo is not None and scope in memo:
            found[scope] = memo[scope]
        else:
            missing.append(scope)
    if missing:
        fresh = _read(missing)
        found.update(fresh)
        if memo is not None:
            memo.update(fresh)
    return found


def _read(scopes: list[int | str]) -> dict[int | str, str]:
    database = router.db_for_read(DataChange)
    if shared_cache_enabled() and database == DEFAULT_DB_ALIAS:
        # Only a version read from the primary is shared: one read from a replica that lags
        # could otherwise stand for a change its writer has already been shown.
        return guarded_many(
            {s: (data_gen_key(s), data_version_key(s)) for s in scopes},
            lambda missing: _stored(missing, database),
            VERSION_ENTRY_SECONDS,
        )
    return _stored(scopes, database)


def _stored(scopes: list[int | str], database: str) -> dict[int | str, str]:
    """The versions as the database holds them: one grouped index read."""
    rows = DataChange.objects.using(database)
    out: dict[int | str, str] = {}
    sellers = [s for s in scopes if isinstance(s, int)]
    if sellers:
        out = {s: "0.0" for s in sellers}
        for seller_id, total, last in (
            rows.filter(seller_id__in=sellers)
            .values_list("seller_id")
            .annotate(total=Sum("weight"), last=Max("id"))
            .values_list("seller_id", "total", "last")
            .order_by()
        ):
            out[seller_id] = f"{total}.{last}"
    if EVERY in scopes:
        every = rows.filter(seller_id=EVERY_ROW).aggregate(total=Sum("weight"), last=Max("id"))
        out[EVERY] = f"{every['total'] or 0}.{every['last'] or 0}"
    return out
