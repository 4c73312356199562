"""Metrics benchmark: ingestion with defects and counters maintained, health reads, all-seller
health against DuckDB, and a full rebuild, on one generated ledger in PostgreSQL.

    .venv/bin/python bench/metrics.py [--orders 1000000] [--sellers 500]

Prints, in one run: ingest events/s (every projection maintained); one seller's health p50
(warm) and 90-day history p50 (one metric, as the API serves it, and all seven); the health
of every seller as of one day, with the ratio to the same computation in DuckDB over the same
counter rows; and a full `defectdesk rebuild`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import END, fresh_postgres, ledger_file, median

WARM_RUNS = 200


def p50_ms(fn: Any, args_list: list[Any]) -> float:
    for args in args_list[:20]:
        fn(*args)  # warm the caches
    times = []
    for i in range(WARM_RUNS):
        args = args_list[i % len(args_list)]
        started = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - started) * 1000)
    return median(times)


def duckdb_all_sellers(
    rows_csv: str, windows: list[tuple[int, str, str]], as_of: str
) -> tuple[float, dict[tuple[int, int, int], int]]:
    """The same grouped range sum in DuckDB over the same counter rows: (ms, sums)."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE c AS SELECT * FROM read_csv(?, header=false, columns={'seller_id': "
        "'INTEGER', 'metric': 'SMALLINT', 'part': 'SMALLINT', 'key_day': 'DATE', "
        "'change_day': 'DATE', 'delta': 'INTEGER'})",
        [rows_csv],
    )
    clause = " OR ".join(
        f"(metric = {m} AND key_day BETWEEN DATE '{lo}' AND DATE '{hi}')" for m, lo, hi in windows
    )
    sql = (
        f"SELECT seller_id, metric, part, SUM(delta) FROM c WHERE change_day <= DATE "
        f"'{as_of}' AND ({clause}) GROUP BY seller_id, metric, part"
    )
    con.execute(sql).fetchall()  # warm
    times, result = [], []
    for _ in range(5):
        started = time.perf_counter()
        result = con.execute(sql).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return median(times), {(s, m, p): int(v) for s, m, p, v in result}


def duckdb_compare(
    market_id: int, policy: Any, as_of: Any, sums: dict[int, Any]
) -> tuple[float, bool]:
    """The marketplace's counter rows copied into DuckDB (not timed), the same all-sellers sum
    there: (DuckDB's ms, whether its non-zero sums are ours, `sums` from all_sellers_sums)."""
    from django.db import connection

    from defectdesk.metrics.core import METRIC_CODE
    from defectdesk.policy.profile import METRICS

    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as tmp:
        raw = connection.connection
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY (SELECT seller_id, metric, part, key_day, change_day, delta FROM "
                "metrics_dailycounter WHERE marketplace_id = %s) TO STDOUT WITH (FORMAT csv)",
                [market_id],
            ) as copy,
        ):
            for block in copy:
                tmp.write(block)
    windows = []
    for name in METRICS:
        spec = policy.metrics[name]
        hi = as_of - timedelta(days=spec.lag_days)
        windows.append((METRIC_CODE[name], str(hi - timedelta(days=spec.window_days - 1)), str(hi)))
    duck_ms, duck = duckdb_all_sellers(tmp.name, windows, str(as_of))
    os.unlink(tmp.name)
    ours = {
        (s, m, p): v
        for s, hs in sums.items()
        for m, parts in hs.sums.items()
        for p, v in parts.items()
    }
    return duck_ms, {k: v for k, v in ours.items() if v} == {k: v for k, v in duck.items() if v}


def run_child(path: Path, batch_size: int) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from defectdesk.accounts.models import Seller
    from defectdesk.core.actors import SYSTEM
    from defectdesk.defects.models import Defect
    from defectdesk.ledger.actions import marketplace_set
    from defectdesk.ledger.importer import import_path
    from defectdesk.ledger.models import Marketplace, Order
    from defectdesk.ledger.rebuild import ledger_rebuild
    from defectdesk.metrics.health import (
        all_sellers_sums,
        health_sums,
        metric_history,
        scope_for,
        seller_health,
    )
    from defectdesk.metrics.models import DailyCounter
    from defectdesk.policy.profile import METRICS

    call_command("migrate", verbosity=0, skip_checks=True)
    marketplace_set(actor=SYSTEM, code="US", timezone="America/Los_Angeles", currency="USD")
    out: dict[str, Any] = {}
    started = time.monotonic()
    result = import_path(str(path), "ndjson", batch_size=batch_size)
    out["ingest_s"] = time.monotonic() - started
    assert not result.rejected, result.rejected[:3]
    out["events"] = result.created + result.duplicates
    out["orders"] = Order.objects.count()
    out["defects"] = Defect.objects.count()
    out["counter_rows"] = DailyCounter.objects.count()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE metrics_dailycounter")
    market = Marketplace.objects.get(code="US")
    sellers = list(Seller.objects.order_by("external_id"))
    scopes = [scope_for(s, "US") for s in sellers]
    as_of = END
    out["sellers"] = len(sellers)
    out["health_p50_ms"] = p50_ms(seller_health, [(sc, as_of) for sc in scopes])
    first = as_of - timedelta(days=89)
    out["history_p50_ms"] = p50_ms(
        metric_history, [(sc, "order_defect_rate", first, as_of) for sc in scopes]
    )

    def all_history(scope: Any) -> None:
        for metric in METRICS:
            metric_history(scope, metric, first, as_of)

    out["history_all_p50_ms"] = p50_ms(all_history, [(sc,) for sc in scopes])
    policy = scopes[0].policy
    all_sellers_sums(as_of, market, policy)  # warm
    times = []
    for _ in range(5):
        started = time.perf_counter()
        sums = all_sellers_sums(as_of, market, policy)
        times.append((time.perf_counter() - started) * 1000)
    out["all_sellers_ms"] = median(times)
    out["duckdb_ms"], out["duckdb_agrees"] = duckdb_compare(market.id, policy, as_of, sums)
    one = health_sums(sellers[0].id, market.id, as_of, policy)
    out["per_seller_agrees"] = one.sums == sums[sellers[0].id].sums
    statuses = [seller_health(sc, as_of)["account_status"] for sc in scopes]
    out["at_risk"] = statuses.count("at_risk")
    before = seller_health(scopes[0], as_of)
    started = time.monotonic()
    ledger_rebuild()
    out["rebuild_s"] = time.monotonic() - started
    out["rebuild_agrees"] = seller_health(scopes[0], as_of) == before
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=20000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = ledger_file(args.orders, args.sellers, args.days, args.seed)
    if args.child:
        print(json.dumps(run_child(path, args.batch_size)))
        return
    print(
        f"ledger: {path.name}, {path.stat().st_size / 1e6:,.0f} MB, {args.orders:,} orders, "
        f"{args.sellers} sellers",
        flush=True,
    )
    url = fresh_postgres("dd_bench_metrics")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEFECTDESK_TESTING": "1",
        "DATABASE_CONN_MAX_AGE": "0",
    }
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
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
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    ok = "ok" if r["events"] / r["ingest_s"] >= 20_000 else "MISSED"
    print(
        f"ingest   {r['events']:,} events, {r['orders']:,} orders, {r['defects']:,} defects, "
        f"{r['counter_rows']:,} counter rows in {r['ingest_s']:.1f}s: "
        f"{r['events'] / r['ingest_s']:,.0f} events/s (target >= 20,000: {ok})"
    )
    print(
        f"health   one seller, warm p50 {r['health_p50_ms']:.2f} ms (target < 5 ms: "
        f"{'ok' if r['health_p50_ms'] < 5 else 'MISSED'})"
    )
    print(
        f"history  90 days, one metric p50 {r['history_p50_ms']:.2f} ms (target < 50 ms: "
        f"{'ok' if r['history_p50_ms'] < 50 else 'MISSED'}); all seven metrics p50 "
        f"{r['history_all_p50_ms']:.2f} ms"
    )
    ratio = r["all_sellers_ms"] / r["duckdb_ms"]
    print(
        f"all      {r['sellers']} sellers as of {END}: {r['all_sellers_ms']:.1f} ms; DuckDB "
        f"{r['duckdb_ms']:.1f} ms on the same rows; ratio {ratio:.1f}x (target <= 10x: "
        f"{'ok' if ratio <= 10 else 'MISSED'}); results agree: {r['duckdb_agrees']}; "
        f"{r['at_risk']} sellers at risk"
    )
    print(
        f"rebuild  full `defectdesk rebuild` in {r['rebuild_s']:.1f}s; health unchanged: "
        f"{r['rebuild_agrees']}"
    )


if __name__ == "__main__":
    main()
