"""The request path's cost: application CPU per event through POST /api/v1/events, against the
same events handed to `events_ingest` directly, in one run.

    nice -n 5 .venv/bin/python bench/api_ingest.py [--db both|postgres|sqlite] \\
        [--batches 100,500] [--rounds 7] [--seed-orders 20000] [--profile 500]

For each database a child process migrates a fresh database (PostgreSQL `dd_bench_api_ingest`
unless --database is given), loads --seed-orders orders so that the tables are not empty (and
analyzes them, as autovacuum would have in a live database), then
streams events shaped like bench/load.py's ingest clients: each batch holds new orders (both
marketplaces) and the shipments, deliveries and feedback of orders placed in earlier batches.
Two streams of the same shape, one for each path, so that neither meets the other's events. For
each batch size it alternates an API batch (Django's test client, in process: middleware,
token, rate limit, Idempotency-Key, body parsing, the view and the JSON answer) and a direct
batch (`events_ingest` on the parsed events), --rounds times after a warm-up round, and prints
the medians (and means, which count the rare slow round) of application CPU per event
(`time.process_time`) and, on PostgreSQL, the CPU its backend process spent (from /proc, in
10 ms ticks, averaged over the rounds: the database's share), with the API/direct ratio of the
same run. On SQLite the database runs in the process, so its work is in the application's CPU.

--profile N writes a pyinstrument profile of 10,000 events posted in API batches of N to
bench/out/.

--reuse DATABASE measures against a PostgreSQL database that bench/scale.py loaded, as it is
(nothing dropped, nothing seeded): the streams pick among 500 of its sellers, as bench/load.py's
ingest clients do, so the figures are those of a large ledger. The events it adds stay.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import MARKETS, OUT, fresh_postgres, fresh_sqlite, median, order_placed

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Stream:
    """Events as bench/load.py's ingest clients send them, deterministic, with its own ids."""

    def __init__(self, prefix: str, sellers: list[str], seed: int) -> None:
        self.prefix = prefix
        self.sellers = sellers
        self.rng = Random(seed)  # nosec B311 # benchmark choices, not secrets
        self.ids = count()
        self.open: list[tuple[dict[str, Any], int]] = []
        self.clock = datetime(2026, 11, 20, 12, tzinfo=UTC)

    def _placed(self, n: int) -> dict[str, Any]:
        market = "US" if self.rng.random() < 0.7 else "CN"
        return order_placed(
            event_id=f"{self.prefix}-{n}",
            order_ref=f"{self.prefix.upper()}-{n:09d}",
            seller=self.sellers[self.rng.randrange(len(self.sellers))],
            market=market,
            at=self.clock,
            buyer=f"B-{n % 5000}",
            payment_ref=f"pi_{self.prefix}_{n}",
        )

    def _follow(self, order: dict[str, Any], kind: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"{self.prefix}-{next(self.ids)}-{kind}",
            "type": kind,
            "occurred_at": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "marketplace": order["marketplace"],
            "seller": order["seller"],
            "order": order["order"],
            "data": data,
        }

    def batch(self, size: int) -> list[dict[str, Any]]:
        self.clock += timedelta(minutes=1)
        out: list[dict[str, Any]] = []
        while len(out) < size:
            if self.open and (len(self.open) > 2000 or self.rng.random() < 0.5):
                order, stage = self.open.pop(0)
                if stage == 0:
                    data = {"carrier": "UPS", "service": "Ground", "tracking_number": "1Z1"}
                    out.append(self._follow(order, "order.shipped", data))
                    self.open.append((order, 1))
                elif stage == 1:
                    out.append(self._follow(order, "order.delivered", {"signature": False}))
                    self.open.append((order, 2))
                else:
                    bad = self.rng.random() < 0.1
                    data = {
                        "feedback_id": f"FB-{order['order']}",
                        "rating": 1 if bad else 5,
                        "comment": "Arrived broken." if bad else "Great, thanks!",
                    }
                    out.append(self._follow(order, "feedback.posted", data))
            else:
                order = self._placed(next(self.ids))
                out.append(order)
                self.open.append((order, 0))
        return out


def _backend_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of the PostgreSQL backend process so far; 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_child(
    batches: list[int], rounds: int, seed_orders: int, profile: int, reuse: bool
) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    django.setup()
    import orjson
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from defectdesk.accounts.actions import token_create
    from defectdesk.accounts.models import Seller
    from defectdesk.core.actors import SYSTEM
    from defectdesk.ledger.actions import marketplace_set
    from defectdesk.ledger.ingest import Candidate, events_ingest

    if reuse:
        sellers = list(Seller.objects.order_by("?").values_list("external_id", flat=True)[:500])
        seed_orders = 0
    else:
        call_command("migrate", verbosity=0)
        for code, (zone, currency) in MARKETS.items():
            marketplace_set(actor=SYSTEM, code=code, timezone=zone, currency=currency)
        sellers = [f"S-{i:05d}" for i in range(500)]
    if seed_orders:
        seed = Stream("seed", sellers, 1)
        for _ in range(0, seed_orders * 2, 5000):
            events_ingest([Candidate(i, e) for i, e in enumerate(seed.batch(5000))])
        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # as autovacuum would have by now in a live database
    _, token = token_create(actor=SYSTEM, name="bench", scopes=["ingest"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()" if pg else "SELECT NULL")
        backend = cur.fetchone()[0]
    prefix = f"r{time.time_ns() % 10**9}-" if reuse else ""
    api_stream = Stream(f"{prefix}api", sellers, 2)
    direct_stream = Stream(f"{prefix}direct", sellers, 2)
    keys = count()

    def post(items: list[dict[str, Any]]) -> dict[str, Any]:
        body = orjson.dumps(items)
        response = client.post(
            "/api/v1/events",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"bench-{next(keys)}",
        )
        assert response.status_code == 200, response.content[:500]
        return response.json()  # type: ignore[no-any-return]

    def direct(items: list[dict[str, Any]]) -> dict[str, Any]:
        # What the view hands on: the parsed body as candidates (the parse is not timed).
        result = events_ingest([Candidate(i, e) for i, e in enumerate(items)])
        return {"created": result.created, "rejected": len(result.rejected)}

    figures: dict[str, Any] = {"vendor": connection.vendor, "sizes": {}}
    for size in batches:
        rows: dict[str, list[tuple[float, float]]] = {"api": [], "direct": []}
        for round_no in range(rounds + 1):
            for path, stream, call in (
                ("api", api_stream, post),
                ("direct", direct_stream, direct),
            ):
                items = stream.batch(size)
                cpu0, db0 = time.process_time(), _backend_cpu(backend)
                answer = call(items)
                cpu1, db1 = time.process_time(), _backend_cpu(backend)
                assert answer["created"] == size and not answer["rejected"], answer
                if round_no:  # the first round warms caches and is not counted
                    rows[path].append(((cpu1 - cpu0) / size, (db1 - db0) / size))
        figures["sizes"][size] = {
            path: {
                "app_ms": median([a for a, _ in values]) * 1000,
                "app_mean_ms": sum(a for a, _ in values) / len(values) * 1000,
                "db_ms": sum(d for _, d in values) / len(values) * 1000,
                "rounds": [round(a * 1000, 4) for a, _ in values],
            }
            for path, values in rows.items()
        }
    if profile:
        from pyinstrument import Profiler

        batches_of = [api_stream.batch(profile) for _ in range(max(1, 10_000 // profile))]
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for items in batches_of:
            post(items)
        profiler.stop()
        OUT.mkdir(parents=True, exist_ok=True)
        target = OUT / f"api_ingest-{connection.vendor}-{profile}.txt"
        target.write_text(profiler.output_text(unicode=False, show_all=False))
        figures["profile"] = str(target)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["both", "postgres", "sqlite"], default="both")
    parser.add_argument("--database", help="PostgreSQL database name (dropped and made anew)")
    parser.add_argument("--batches", default="100,500", help="batch sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed-orders", type=int, default=20_000)
    parser.add_argument(
        "--profile", type=int, default=0, help="profile 10,000 events in API batches of N"
    )
    parser.add_argument("--reuse", metavar="DATABASE", help="a database bench/scale.py loaded")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    if args.child:
        figures = run_child(batches, args.rounds, args.seed_orders, args.profile, bool(args.reuse))
        print(json.dumps(figures))
        return
    targets = ["postgres", "sqlite"] if args.db == "both" else [args.db]
    if args.reuse:
        targets = ["postgres"]
    for target in targets:
        if args.reuse:
            url = f"postgres://postgres@127.0.0.1:5432/{args.reuse}"
        elif target == "postgres":
            url = fresh_postgres(args.database or "dd_bench_api_ingest")
        else:
            url = fresh_sqlite("bench_api_ingest")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEFECTDESK_TESTING": "1",
            # Counted in the database like any deployment without Redis, but never refused.
            "API_RATE_LIMIT_PER_TOKEN": "1000000",
            "API_RATE_LIMIT_PER_ADDRESS": "1000000",
        }
        env.pop("REDIS_URL", None)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--batches",
                args.batches,
                "--rounds",
                str(args.rounds),
                "--seed-orders",
                str(args.seed_orders),
                "--profile",
                str(args.profile),
                *(["--reuse", args.reuse] if args.reuse else []),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        loaded = (
            f"database {args.reuse}" if args.reuse else f"{args.seed_orders:,} orders loaded first"
        )
        print(f"{target} ({loaded}), medians of {args.rounds} rounds:")
        for size, paths in r["sizes"].items():
            api, direct = paths["api"], paths["direct"]
            db = (
                f"; database backend {api['db_ms']:.3f} vs {direct['db_ms']:.3f} ms/event"
                if target == "postgres"
                else " (the database runs in the process: its work is included)"
            )
            print(
                f"  batch {int(size):>5,}: application CPU per event, API "
                f"{api['app_ms']:.3f} ms vs direct {direct['app_ms']:.3f} ms, ratio "
                f"{api['app_ms'] / direct['app_ms']:.2f} (means {api['app_mean_ms']:.3f} vs "
                f"{direct['app_mean_ms']:.3f}){db}",
                flush=True,
            )
        if "profile" in r:
            print(f"  profile of 10,000 events in API batches: {r['profile']}")


if __name__ == "__main__":
    main()
