"""Set-based writes: many rows in one statement (COPY on PostgreSQL, executemany elsewhere)."""

from __future__ import annotations

import weakref
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


# Per database session: the temp tables created (and committed) in it, and those filled in the
# transaction under way. Keyed by the driver's connection, so a new session starts afresh.
_TEMP_MADE: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_TEMP_FILLED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def temp_table_empty(name: str, like: str, columns: str) -> None:
    """Have the PostgreSQL temp table `name` (the `columns` of table `like`, emptied at every
    commit) exist and be empty, for a batch to be copied into it; inside a transaction.

    A batch of events fills a few of these; creating each (IF NOT EXISTS) and truncating it
    every time was two statements per table per batch, a TRUNCATE being a new file for the
    table. The table is created once per session, and truncated only when this transaction
    filled it already: a commit empties it, a rollback takes back what was put in it.
    """
    connection.ensure_connection()  # the raw connection below exists only once opened
    raw = connection.connection
    made = _TEMP_MADE.setdefault(raw, set())
    filled = _TEMP_FILLED.setdefault(raw, set())
    with connection.cursor() as cur:
        if name not in made:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                f"SELECT {columns} FROM {like} WITH NO DATA"
            )
            # Known to exist once the creating transaction committed (a rollback undoes it).
            connection.on_commit(lambda: made.add(name))
        if name in filled:
            cur.execute(f"TRUNCATE {name}")
    filled.add(name)
    # Empty again after the commit; after a rollback (no callback) the next use truncates.
    connection.on_commit(lambda: filled.discard(name))


def bulk_insert(
    table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, prepared: bool = False
) -> None:
    """Insert rows as they are (dicts and lists become JSON text).

    `prepared` rows hold no dicts or lists (JSON already serialised), which skips a pass.
    """
    cols = ", ".join(columns)
    if is_postgres():
        connection.ensure_connection()  # a writer's first statement may be this COPY
        raw = connection.connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            write = copy.write_row
            if prepared:
                for row in rows:
                    write(row)
            else:
                for row in rows:
                    write([_pg_value(v) for v in row])
        return
    marks = ", ".join("?" for _ in columns)
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks})",  # noqa: S608 - names are ours # nosec B608 # table and column names are the models' own, values are parameters
            [[_sqlite_value(v) for v in row] for row in rows],
        )


def pg_staged(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    prepared: bool,
    tmp: str = "",
) -> str:
    """PostgreSQL: the rows copied into a temp table of this session shaped like `table`'s
    columns (see temp_table_empty), for one INSERT ... SELECT from it; its name. `tmp` names
    it (default: one per table and column list)."""
    cols = ", ".join(columns)
    tmp = tmp or f"tmp_{table}_{zlib.crc32(cols.encode()):08x}"
    temp_table_empty(tmp, table, cols)
    bulk_insert(tmp, columns, rows, prepared=prepared)
    return tmp


def bulk_upsert(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
    returning: Sequence[str] = (),
    prepared: bool = False,
) -> list[tuple[Any, ...]]:
    """Insert rows, replacing the `update` columns of rows that clash on `conflict`.

    With `returning`, the named columns of every inserted or updated row. `prepared` rows
    hold no dicts or lists (JSON already serialised), as in `bulk_insert`.
    """
    if not rows:
        return []
    ret = f" RETURNING {', '.join(returning)}" if returning else ""
    update = [c for c in columns if c not in conflict] if update is None else update
    cols = ", ".join(columns)
    target = ", ".join(conflict)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in update)
    action = f"DO UPDATE SET {sets}" if update else "DO NOTHING"  # nosec B608 # table and column names are the models' own, values are parameters
    if is_postgres():
        tmp = pg_staged(table, columns, rows, prepared=prepared)
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {tmp} "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                f"ON CONFLICT ({target}) {action}{ret}"
            )
            return list(cur.fetchall()) if returning else []
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({target}) {action}"  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
    values = [[_sqlite_value(v) for v in row] for row in rows]
    with connection.cursor() as cur:
        if not returning:
            cur.executemany(sql, values)
            return []
        out: list[tuple[Any, ...]] = []
        raw = cur.cursor  # sqlite3 cursor: executemany cannot return rows
        for start in range(0, len(values), 500):
            part = values[start : start + 500]
            many = ", ".join([f"({marks})"] * len(part))
            raw.execute(
                f"INSERT INTO {table} ({cols}) VALUES {many} "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
                f"ON CONFLICT ({target}) {action}{ret}",
                [v for row in part for v in row],
            )
            out.extend(raw.fetchall())
        return out


def _pg_array(values: Sequence[Any]) -> tuple[str, str] | None:
    """An array literal of all-text or all-integer values and its type; None for others.

    Written here in one pass: the driver adapts a list element by element, which costs more
    than the query when it holds tens of thousands of ids."""
    kinds = {type(v) for v in values}
    if kinds == {int}:
        return "{" + ",".join(map(str, values)) + "}", "bigint[]"
    if kinds == {str}:
        quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
        return '{"' + '","'.join(quoted) + '"}', "text[]"
    return None


def fetch_in(
    sql: str, column: str, values: Sequence[Any], params: Sequence[Any] = (), chunk: int = 2000
) -> list[tuple[Any, ...]]:
    """Rows of `sql` (which ends in a WHERE with `{in}`) for every value, in few statements.

    PostgreSQL gets one array parameter (`column = ANY(%s)`), others chunked IN lists.
    """
    rows: list[tuple[Any, ...]] = []
    if not values:
        return rows
    with connection.cursor() as cur:
        if is_postgres():
            literal = _pg_array(values)
            if literal is None:
                cur.execute(sql.format(**{"in": f"{column} = ANY(%s)"}), [*params, list(values)])
            else:
                text, kind = literal
                cur.execute(sql.format(**{"in": f"{column} = ANY(%s::{kind})"}), [*params, text])
            return list(cur.fetchall())
        for start in range(0, len(values), chunk):
            part = list(values[start : start + chunk])
            marks = ", ".join(["%s"] * len(part))
            cur.execute(sql.format(**{"in": f"{column} IN ({marks})"}), [*params, *part])
            rows.extend(cur.fetchall())
    return rows
