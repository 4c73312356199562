"""The database triggers that keep the audit table append-only (UPDATE and DELETE refused)."""

from __future__ import annotations

from typing import Any

AUDIT_TABLE = "core_auditevent"
REFUSAL = "audit events are append-only"

_POSTGRES_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION {AUDIT_TABLE}_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL}: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS {AUDIT_TABLE}_append_only ON {AUDIT_TABLE}",
    f"""
    CREATE TRIGGER {AUDIT_TABLE}_append_only BEFORE UPDATE OR DELETE ON {AUDIT_TABLE}
    FOR EACH ROW EXECUTE FUNCTION {AUDIT_TABLE}_append_only()
    """,
]
_POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS {AUDIT_TABLE}_append_only ON {AUDIT_TABLE}",
    f"DROP FUNCTION IF EXISTS {AUDIT_TABLE}_append_only()",
]
_SQLITE_CREATE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {AUDIT_TABLE}_no_{op.lower()} BEFORE {op} ON {AUDIT_TABLE}
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}: {op} refused on {AUDIT_TABLE}'); END
    """
    for op in ("UPDATE", "DELETE")
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {AUDIT_TABLE}_no_{op}" for op in ("update", "delete")]


def create_statements(vendor: str) -> list[str]:
    """The statements that install the triggers on this database vendor (none if unsupported)."""
    return {"postgresql": _POSTGRES_CREATE, "sqlite": _SQLITE_CREATE}.get(vendor, [])


def drop_statements(vendor: str) -> list[str]:
    """The statements that remove the triggers on this database vendor."""
    return {"postgresql": _POSTGRES_DROP, "sqlite": _SQLITE_DROP}.get(vendor, [])


def install(connection: Any) -> None:
    """Install the triggers on `connection`'s database."""
    with connection.cursor() as cur:
        for sql in create_statements(connection.vendor):
            cur.execute(sql)


def uninstall(connection: Any) -> None:
    """Remove the triggers from `connection`'s database."""
    with connection.cursor() as cur:
        for sql in drop_statements(connection.vendor):
            cur.execute(sql)
