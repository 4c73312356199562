"""A cheap token that changes whenever anything behind any seller's health may have changed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar, cast

from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language

from defectdesk.core.models import AuditEvent
from defectdesk.core.shared import DATA_GEN_KEY, DATA_VERSION_KEY, guarded
from defectdesk.ledger.models import Event

T = TypeVar("T")


# Bounds how long a version can outlive a change whose writer died between its commit and
# telling the shared cache (or ran without REDIS_URL): it is read afresh at least this often.
VERSION_ENTRY_SECONDS = 10


def data_version() -> str:
    """A token that changes whenever the ledger or the audit log grows.

    Every accepted event advances the ledger's sequence; every action that changes health
    without an event (an approved appeal, a policy change) is audited. Pages key their caches
    by this token. It is read from the database in one query of two index lookups; with a
    shared cache (REDIS_URL), from there, under the generation both writers replace
    (`core.shared.data_changed`), so that no process uses a version older than a change.
    """
    found = guarded(DATA_GEN_KEY, DATA_VERSION_KEY, stored_data_version, VERSION_ENTRY_SECONDS)
    assert found is not None  # stored_data_version never returns None
    return found


def stored_data_version() -> str:
    """The ledger's last sequence number and the audit log's last id, read in one query."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT (SELECT MAX(seq) FROM {Event._meta.db_table}), "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            f"(SELECT MAX(id) FROM {AuditEvent._meta.db_table})"
        )
        row = cur.fetchone()
    return f"{row[0] or 0}.{row[1] or 0}"


def version_cached(
    name: str,
    parts: object,
    compute: Callable[[], T],
    seconds: int,
    *,
    version: str | None = None,
) -> T:
    """`compute()`, kept in this process's cache under the data version.

    The key holds `name`, `parts` (what the result depends on: a seller, filters, a day), the
    data version, and the active language and time zone (results are often rendered text).
    Anything that changes the data changes the version, so a stale entry is never read again;
    `seconds` bounds memory, and how long a time-dependent result (a deadline passing) may lag.
    `compute()` must not return None. A page that keeps several results passes the `version`
    it read once, so that they all come from one read (and one round trip).
    """
    shown = repr((parts, get_language(), timezone.get_current_timezone_name()))
    version = data_version() if version is None else version
    key = f"{name}:{version}:{hashlib.sha256(shown.encode()).hexdigest()[:32]}"
    local = caches["local"]
    found = local.get(key)
    if found is not None:
        return cast(T, found)
    value = compute()
    local.set(key, value, seconds)
    return value
