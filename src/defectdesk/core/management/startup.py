"""Start-up checks shared by the long-running commands."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor


def ensure_database_ready() -> None:
    """Refuse to start, saying what to do, when the database is unreachable or not migrated."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(f"cannot use the database ({exc}); check DATABASE_URL") from exc
    if pending:
        raise CommandError(
            f"the database has {len(pending)} migrations to apply; run `defectdesk migrate` first"
        )
