"""Ingestion benchmark: a generated ledger imported through `defectdesk import`'s code path.

    .venv/bin/python bench/ingest.py [--orders 1000000] [--db both|postgres|sqlite]

For each database it prints events/s with the orders projection (and every registered
projection) maintained, the importer's peak RSS, and the ratio to a raw bulk load of the same
rows in the same run (PostgreSQL COPY, SQLite executemany, into a bare table).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import fresh_postgres, fresh_sqlite, ledger_file


def run_one(path: Path, batch_size: int, projections: str) -> dict[str, float]:
    """In a child process: migrate a fresh database, import, then time the raw load."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from defectdesk.core.actors import SYSTEM
    from defectdesk.ledger.actions import marketplace_set
    from defectdesk.ledger.importer import import_path
    from defectdesk.ledger.models import Event, Order

    call_command("migrate", verbosity=0)
    if projections == "orders":
        # The ledger and its orders projection alone: defects, metric counters and buyer
        # messages are not maintained (what bench/metrics.py adds on top).
        from defectdesk.ledger import projection

        projection.pipeline_install(projection.Pipeline(lambda pending: None, ()))
    marketplace_set(actor=SYSTEM, code="US", timezone="America/Los_Angeles", currency="USD")
    started = time.monotonic()
    result = import_path(str(path), "ndjson", batch_size=batch_size)
    elapsed = time.monotonic() - started
    events = result.created + result.duplicates
    peak_mb = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    assert not result.rejected, result.rejected[:3]
    orders = Order.objects.count()
    stored = Event.objects.count()
    raw_seconds = raw_load(path, connection)
    from django.conf import settings

    return {
        "workers": settings.INGEST_WORKERS if connection.vendor == "postgresql" else 1,
        "events": events,
        "stored": stored,
        "orders": orders,
        "seconds": elapsed,
        "events_per_s": events / elapsed,
        "peak_rss_mb": peak_mb,
        "raw_seconds": raw_seconds,
        "raw_events_per_s": events / raw_seconds,
    }


def raw_load(path: Path, connection: object) -> float:
    """Parse the same file and bulk-load its rows into a bare table; seconds taken."""
    import orjson
    from django.db import connection as conn
    from django.db import transaction

    cols = "event_id, type, occurred_at, marketplace, seller, order_ref, data"
    started = time.monotonic()
    with transaction.atomic(), conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw_event")
        cur.execute(
            "CREATE TABLE bench_raw_event (event_id text, type text, occurred_at text, "
            "marketplace text, seller text, order_ref text, data text)"
        )
        pg = conn.vendor == "postgresql"
        with open(path, "rb") as f:
            if pg:
                raw = conn.connection
                with (
                    raw.cursor() as pcur,
                    pcur.copy(f"COPY bench_raw_event ({cols}) FROM STDIN") as cp,
                ):
                    for line in f:
                        e = orjson.loads(line)
                        cp.write_row(
                            (
                                e["id"],
                                e["type"],
                                e["occurred_at"],
                                e["marketplace"],
                                e["seller"],
                                e["order"],
                                orjson.dumps(e["data"]).decode(),
                            )
                        )
            else:
                batch: list[tuple[str, ...]] = []
                for line in f:
                    e = orjson.loads(line)
                    batch.append(
                        (
                            e["id"],
                            e["type"],
                            e["occurred_at"],
                            e["marketplace"],
                            e["seller"],
                            e["order"],
                            orjson.dumps(e["data"]).decode(),
                        )
                    )
                    if len(batch) == 10_000:
                        cur.executemany("INSERT INTO bench_raw_event VALUES (?,?,?,?,?,?,?)", batch)
                        batch = []
                if batch:
                    cur.executemany("INSERT INTO bench_raw_event VALUES (?,?,?,?,?,?,?)", batch)
    seconds = time.monotonic() - started
    with conn.cursor() as cur:
        cur.execute("DROP TABLE bench_raw_event")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", choices=["both", "postgres", "sqlite"], default="both")
    parser.add_argument("--batch-size", type=int, default=20000)
    parser.add_argument(
        "--projections",
        choices=["all", "orders"],
        default="all",
        help="maintain every projection (default) or only the orders projection",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = ledger_file(args.orders, args.sellers, args.days, args.seed)
    if args.child:
        print(json.dumps(run_one(path, args.batch_size, args.projections)))
        return
    size_mb = path.stat().st_size / 1e6
    print(f"ledger: {path.name}, {size_mb:,.0f} MB, {args.orders:,} orders")
    targets = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    for target in targets:
        url = (
            fresh_postgres("dd_bench_ingest")
            if target == "postgres"
            else fresh_sqlite("bench_ingest")
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEFECTDESK_TESTING": "1",
            "DATABASE_CONN_MAX_AGE": "0",
        }
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                target,
                "--orders",
                str(args.orders),
                "--sellers",
                str(args.sellers),
                "--days",
                str(args.days),
                "--seed",
                str(args.seed),
                "--batch-size",
                str(args.batch_size),
                "--projections",
                args.projections,
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        label = "orders projection" if args.projections == "orders" else "all projections"
        print(
            f"{target:9s} [{label}] {r['events']:,} events ({r['orders']:,} orders) "
            f"in {r['seconds']:.1f}s: "
            f"{r['events_per_s']:,.0f} events/s with {r['workers']} importer process(es), "
            f"peak RSS {r['peak_rss_mb']:.0f} MB per process; "
            f"raw bulk load {r['raw_events_per_s']:,.0f} events/s; "
            f"ratio {r['events_per_s'] / r['raw_events_per_s']:.2f} of raw",
            flush=True,
        )


if __name__ == "__main__":
    main()
