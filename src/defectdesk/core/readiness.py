"""Readiness: can this process serve real requests (database, schema, a live worker)?"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# Migrations do not go backwards under a running process: once applied, remember it a while.
_MIGRATED_FOR = 60.0
_migrated_at = 0.0


def _database_check() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _migrations_check() -> str:
    global _migrated_at
    if time.monotonic() - _migrated_at < _MIGRATED_FOR:
        return "ok"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:3])
        more = f" and {len(plan) - 3} more" if len(plan) > 3 else ""
        return f"{len(plan)} migrations not applied ({names}{more}): run defectdesk migrate"
    _migrated_at = time.monotonic()
    return "ok"


def _worker_check() -> str:
    from defectdesk.core.models import WorkerHeartbeat

    seconds = settings.READYZ_WORKER_SECONDS
    if seconds <= 0:
        return "ok"
    since = timezone.now() - timedelta(seconds=seconds)
    if WorkerHeartbeat.objects.filter(seen_at__gte=since).exists():
        return "ok"
    return f"no worker has sent a heartbeat in the last {seconds} s: start defectdesk worker"


def readiness_checks() -> dict[str, str]:
    """Each check's result: "ok" or what is wrong, in words; later checks need the database."""
    try:
        results = {"database": _database_check()}
    except DatabaseError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {
            "database": f"unreachable: {first[:200]}",
            "migrations": "not checked",
            "worker": "not checked",
        }
    for name, check in (("migrations", _migrations_check), ("worker", _worker_check)):
        try:
            results[name] = check()
        except DatabaseError as exc:
            results[name] = f"failed: {str(exc).strip()[:200]}"
    return results
