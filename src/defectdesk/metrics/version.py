"""A cheap token that changes whenever anything behind any seller's health may have changed."""

from __future__ import annotations

from django.db import connection

from defectdesk.core.models import AuditEvent
from defectdesk.ledger.models import Event


def data_version() -> str:
    """The ledger's last sequence number and the audit log's last id, read in one query.

    Every accepted event advances the first; every action that changes health without an
    event (an approved appeal, a policy change) is audited and advances the second. Both
    reads are index lookups, so caches keyed by this version cost one round trip to check.
    """
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT (SELECT MAX(seq) FROM {Event._meta.db_table}), "  # noqa: S608
            f"(SELECT MAX(id) FROM {AuditEvent._meta.db_table})"
        )
        row = cur.fetchone()
    return f"{row[0] or 0}.{row[1] or 0}"
