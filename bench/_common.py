"""Shared pieces of the benchmarks: the cached ledger file and fresh databases."""

from __future__ import annotations

import subprocess
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
END = date(2026, 10, 31)


def ledger_file(orders: int, sellers: int, days: int, seed: int) -> Path:
    """Generate (once) the benchmark ledger with `defectdesk generate` and return its path."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"ledger-{orders}-{sellers}-{days}-{seed}.ndjson"
    if path.exists() and path.stat().st_size > 0:
        return path
    from defectdesk.ledger.generator import generate_events, write_ndjson

    started = time.monotonic()
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as stream:
        write_ndjson(
            generate_events(orders=orders, sellers=sellers, days=days, seed=seed, end=END),
            stream,
        )
    tmp.rename(path)
    print(f"generated {path.name} in {time.monotonic() - started:.0f}s", flush=True)
    return path


def fresh_postgres(name: str) -> str:
    """Drop and create a PostgreSQL database; its URL."""
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql, "postgres"], check=True
        )
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def fresh_sqlite(name: str) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
