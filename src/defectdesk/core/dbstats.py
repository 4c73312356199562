"""Planner statistics kept fresh during bulk writes (PostgreSQL)."""

from __future__ import annotations

from django.db import connection, transaction

from defectdesk.core.bulk import is_postgres

# A table is analysed once it holds this many times the rows its statistics describe, and at
# least ANALYZE_FLOOR more: a table growing from nothing to millions of rows is analysed a
# dozen times, and a table that only changes in place is left to autovacuum.
ANALYZE_GROWTH = 1.5
ANALYZE_FLOOR = 10_000
# Any fixed number: it only keeps two importers from analysing the same tables at once.
_ADVISORY_KEY = 0x44445354


def analyze_grown(growth: float = ANALYZE_GROWTH, floor: int = ANALYZE_FLOOR) -> list[str]:
    """ANALYZE every table that grew a lot since its statistics were taken; their names.

    A bulk import grows the ledger tenfold and more in minutes. Without fresh statistics the
    planner still believes the tables are small, and turns a lookup of a few thousand orders
    into a scan of the whole ledger (seen at a million orders: two seconds per batch instead
    of fifty milliseconds). Autovacuum would analyse them eventually, when it is on and keeps
    up; the importer does not wait for it. Another process analysing at the same moment makes
    this call return at once.
    """
    if not is_postgres():
        return []
    done: list[str] = []
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [_ADVISORY_KEY])
        row = cur.fetchone()
        if not row or not row[0]:
            return done
        # reltuples is -1 for a table never analysed or vacuumed.
        cur.execute(
            "SELECT s.relname, s.n_live_tup, c.reltuples FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema()"
        )
        for name, live, described in cur.fetchall():
            described = max(described, 0)
            if live > max(described * growth, described + floor):
                cur.execute(f"ANALYZE {connection.ops.quote_name(name)}")
                done.append(name)
    return done
