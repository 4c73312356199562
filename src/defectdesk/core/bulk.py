"""Set-based writes: many rows in one statement (COPY on PostgreSQL, executemany elsewhere)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return value


def _pg_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return value


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows as they are (dicts and lists become JSON text)."""
    cols = ", ".join(columns)
    if is_postgres():
        raw = connection.connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_pg_value(v) for v in row])
        return
    marks = ", ".join("?" for _ in columns)
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks})",  # noqa: S608 - names are ours
            [[_sqlite_value(v) for v in row] for row in rows],
        )


def bulk_upsert(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert rows, replacing the `update` columns of rows that clash on `conflict`."""
    if not rows:
        return
    update = [c for c in columns if c not in conflict] if update is None else update
    cols = ", ".join(columns)
    target = ", ".join(conflict)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in update)
    action = f"DO UPDATE SET {sets}" if update else "DO NOTHING"
    if is_postgres():
        tmp = f"tmp_{table}_{zlib.crc32(cols.encode()):08x}"
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {tmp} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {cols} FROM {table} WITH NO DATA"
            )
            cur.execute(f"TRUNCATE {tmp}")
        bulk_insert(tmp, columns, rows)
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {tmp} "  # noqa: S608
                f"ON CONFLICT ({target}) {action}"
            )
        return
    marks = ", ".join("?" for _ in columns)
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks}) "  # noqa: S608
            f"ON CONFLICT ({target}) {action}",
            [[_sqlite_value(v) for v in row] for row in rows],
        )
