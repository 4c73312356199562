"""Shared pieces of the benchmarks: the cached ledger file and fresh databases."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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


MARKETS = {"US": ("America/Los_Angeles", "USD"), "CN": ("Asia/Shanghai", "CNY")}


def order_placed(
    *,
    event_id: str,
    order_ref: str,
    seller: str,
    market: str,
    at: datetime,
    buyer: str,
    payment_ref: str,
) -> dict[str, Any]:
    """A one-mug `order.placed` event as the load and API-ingest benchmarks stream them: placed
    at `at` in `market` (US or CN), due to ship in 2 days and arrive in 6, local time."""
    zone, currency = MARKETS[market]
    local = at.astimezone(ZoneInfo(zone))
    return {
        "id": event_id,
        "type": "order.placed",
        "occurred_at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "marketplace": market,
        "seller": seller,
        "order": order_ref,
        "data": {
            "buyer": buyer,
            "fulfillment": "merchant",
            "total": {"amount": "24.99", "currency": currency},
            "ship_by": (local + timedelta(days=2)).replace(microsecond=0).isoformat(),
            "deliver_by": (local + timedelta(days=6)).replace(microsecond=0).isoformat(),
            "items": [
                {"sku": "MUG-01", "title": "Ceramic Coffee Mug", "quantity": 1, "price": "24.99"}
            ],
            "payment_ref": payment_ref,
        },
    }
