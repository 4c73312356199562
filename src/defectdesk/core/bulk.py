"""Set-based writes: many rows in one statement (COPY on PostgreSQL, executemany elsewhere)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
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


def _copy_field(value: Any) -> str:
    """One value in COPY's text format (what PostgreSQL would parse back to it)."""
    kind = type(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value  # type: ignore[no-any-return]
    if value is None:
        return "\\N"
    if kind is int or kind is Decimal:
        return str(value)
    if kind is datetime or kind is date:
        return value.isoformat()  # type: ignore[no-any-return]
    if kind is bool:
        return "t" if value else "f"
    if kind is float:
        return repr(value)
    if kind is dict or kind is list:
        return _copy_field(orjson.dumps(value).decode())
    raise TypeError(f"no COPY text form for a {kind.__name__}")


def copy_text(rows: Iterable[Sequence[Any]], chunk: int = 5000) -> Iterator[str]:
    """Rows in COPY's text format, `chunk` rows to a string.

    Formatting here is several times faster than handing rows one by one to the driver,
    which looks up a dumper for every value of every row.
    """
    field = _copy_field
    lines: list[str] = []
    for row in rows:
        lines.append("\t".join([field(v) for v in row]))
        if len(lines) >= chunk:
            lines.append("")
            yield "\n".join(lines)
            lines = []
    if lines:
        lines.append("")
        yield "\n".join(lines)


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows as they are (dicts and lists become JSON text)."""
    cols = ", ".join(columns)
    if is_postgres():
        raw = connection.connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for block in copy_text(rows):
                copy.write(block)
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
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert rows, replacing the `update` columns of rows that clash on `conflict`.

    With `returning`, the named columns of every inserted or updated row.
    """
    if not rows:
        return []
    ret = f" RETURNING {', '.join(returning)}" if returning else ""
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
                f"ON CONFLICT ({target}) {action}{ret}"
            )
            return list(cur.fetchall()) if returning else []
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({target}) {action}"  # noqa: S608
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
                f"INSERT INTO {table} ({cols}) VALUES {many} "  # noqa: S608
                f"ON CONFLICT ({target}) {action}{ret}",
                [v for row in part for v in row],
            )
            out.extend(raw.fetchall())
        return out


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
            cur.execute(sql.format(**{"in": f"{column} = ANY(%s)"}), [*params, list(values)])
            return list(cur.fetchall())
        for start in range(0, len(values), chunk):
            part = list(values[start : start + chunk])
            marks = ", ".join(["%s"] * len(part))
            cur.execute(sql.format(**{"in": f"{column} IN ({marks})"}), [*params, *part])
            rows.extend(cur.fetchall())
    return rows
