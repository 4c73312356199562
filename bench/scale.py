"""Marketplace scale benchmark: long-tailed sellers in two marketplaces, every figure in one run.

    nice -n 10 .venv/bin/python bench/scale.py --orders 10000000 --sellers 100000

Generates (once, into bench/out/) a ledger with `defectdesk generate --sizes long-tail
--marketplace US,CN`: a few very large sellers and a long tail of small ones, in America/
Los_Angeles and Asia/Shanghai, on either side of UTC. Imports it into a fresh PostgreSQL
database with every projection, then prints, at that size:

- ingest events/s and the importer's peak RSS;
- one seller's health p50 (warm) for the largest and the smallest seller, and the 90-day
  history p50 (one metric, and all seven) for both;
- the health of every seller of the larger marketplace in one pass, against DuckDB over the
  same counter rows (ratio, and that the results agree);
- the daily status job (`account_status_record`, every seller of both marketplaces; a first
  run that announces every change and a second, idempotent one) and the at-risk scan of every
  seller (`at_risk_scan`; and `at_risk_orders` per seller on a sample, projected to all);
- a full `defectdesk rebuild`;
- every Seller Center page (the largest and the smallest seller) and reviewer console page,
  with --appeals open appeals, under wrk, as a share of the trivial view's throughput.

The figures also go to bench/out/scale-ORDERS-SELLERS.json, so that runs at several sizes can be
set side by side (`--compare` prints the growth of each figure between the saved runs).
`--profile` writes a pyinstrument profile of the jobs and the all-seller pass to bench/out/.
Targets: ingest >= 20,000 events/s; one seller's health p50 < 5 ms; all sellers <= 10x DuckDB;
daily status and at-risk jobs for 100,000 sellers < 10 minutes; every page p99 < 150 ms at 8
connections.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import END, OUT, fresh_postgres, median
from bench.web import drive_pages, report, run_child, serving_env

MARKETS = (("US", "America/Los_Angeles", "USD"), ("CN", "Asia/Shanghai", "CNY"))
# Both ledgers are complete up to here: the end of END in Shanghai, 16:00 on END in UTC.
SCAN_NOW = datetime(END.year, END.month, END.day, 16, 0, tzinfo=UTC)
WARM_RUNS = 200
SAMPLE_SELLERS = 300


def scale_ledger(orders: int, sellers: int, days: int, seed: int) -> Path:
    """Generate (once) the long-tailed two-marketplace ledger; its path."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"scale-{orders}-{sellers}-{days}-{seed}.ndjson"
    if path.exists() and path.stat().st_size > 0:
        return path
    from defectdesk.ledger.generator import (
        generate_marketplaces_events,
        seller_profiles,
        write_ndjson,
    )

    started = time.monotonic()
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as stream:
        write_ndjson(
            generate_marketplaces_events(
                orders=orders,
                marketplaces=[code for code, _, _ in MARKETS],
                profiles=seller_profiles(sellers, seed=seed, sizes="long-tail"),
                days=days,
                seed=seed,
                end=END,
            ),
            stream,
        )
    tmp.rename(path)
    print(f"generated {path.name} in {time.monotonic() - started:.0f}s", flush=True)
    return path


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    django.setup()


def _cpu_seconds() -> float:
    """User and system CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_rss_mb() -> float:
    return (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )


def p50_ms(
    fn: Callable[..., Any], args_list: list[tuple[Any, ...]], runs: int = WARM_RUNS
) -> float:
    for args in args_list[:20]:
        fn(*args)  # warm the caches
    times = []
    for i in range(runs):
        args = args_list[i % len(args_list)]
        started = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - started) * 1000)
    return median(times)


@contextmanager
def profiled(name: str, enabled: bool) -> Iterator[None]:
    """Profile the block with pyinstrument into bench/out/profile-NAME.txt when enabled."""
    if not enabled:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        target = OUT / f"profile-{name}.txt"
        target.write_text(profiler.output_text(unicode=False, show_all=False))
        print(f"profile: {target}", file=sys.stderr, flush=True)


def child_load(path: Path) -> dict[str, Any]:
    """Migrate, create both marketplaces and import the ledger with every projection."""
    _django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from defectdesk.core.actors import SYSTEM
    from defectdesk.ledger.actions import marketplace_set
    from defectdesk.ledger.importer import import_path
    from defectdesk.ledger.models import Event, Order

    call_command("migrate", verbosity=0, skip_checks=True)
    for code, zone_name, currency in MARKETS:
        marketplace_set(actor=SYSTEM, code=code, timezone=zone_name, currency=currency)
    started = time.monotonic()
    cpu_before = _cpu_seconds()
    result = import_path(str(path), "ndjson")
    seconds = time.monotonic() - started
    cpu = _cpu_seconds() - cpu_before
    assert not result.rejected, result.rejected[:3]
    settle_started = time.monotonic()
    _settle(connection, Event._meta.db_table)
    settle_s = time.monotonic() - settle_started
    events = result.created + result.duplicates
    return {
        "events": events,
        "stored": Event.objects.count(),
        "orders": Order.objects.count(),
        "ingest_s": seconds,
        "events_per_s": events / seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "ingest_workers": settings.INGEST_WORKERS,
        # Python's share of the work (the database's is not counted): on a shared machine
        # events per CPU second moves much less with the load than events per second.
        "ingest_cpu_s": cpu,
        "events_per_cpu_s": events / cpu if cpu else 0.0,
        "settle_s": settle_s,
    }


def _settle(connection: Any, ledger_table: str) -> None:
    """Vacuum and analyse after the import, as autovacuum would have in a running deployment.

    The ledger's event table is only analysed: it is insert-only, so autovacuum's insert
    threshold has already vacuumed it during the import, and a full VACUUM of it at 10,000,000
    orders (tens of GB) took longer than all the measurements after it. Every other table, where
    the projections' upserts leave dead rows, is vacuumed too.
    """
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "ORDER BY pg_total_relation_size(quote_ident(tablename)::regclass)"
        )
        tables = [row[0] for row in cur.fetchall()]
        for table in tables:
            verb = "ANALYZE" if table == ledger_table else "VACUUM ANALYZE"
            cur.execute(f'{verb} "{table}"')


def status_history(as_of: Any, days: int) -> int:
    """Record `days` days of statuses before `as_of` for every seller (healthy), as if the
    daily job had run that long; the days recorded."""
    from django.db import connection

    from defectdesk.metrics.models import AccountStatusDay

    AccountStatusDay.objects.filter(day__gte=as_of).delete()  # an earlier run's recording
    if days < 1:
        return 0
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO metrics_accountstatusday "
            "(seller_id, marketplace_id, day, status, failing, recorded_at) "
            "SELECT s.seller_id, s.marketplace_id, d::date, 'healthy', '[]'::jsonb, now() "
            "FROM (SELECT DISTINCT seller_id, marketplace_id FROM ledger_order) s, "
            "generate_series(%s::date - %s, %s::date - 1, interval '1 day') d "
            "ON CONFLICT DO NOTHING",
            [as_of, days, as_of],
        )
        cur.execute("ANALYZE metrics_accountstatusday")
    return days


def child_measure(profile: bool, sample: int, history_days: int = 90) -> dict[str, Any]:
    """Health, history, all sellers against DuckDB, the daily status job and the at-risk scan."""
    _django()
    from django.db.models import Count

    from bench.metrics import duckdb_compare
    from defectdesk.accounts.models import Seller
    from defectdesk.ledger.models import Marketplace, Order
    from defectdesk.messaging.selectors import at_risk_orders, at_risk_scan
    from defectdesk.metrics.health import (
        Scope,
        all_sellers_sums,
        metric_history,
        seller_health,
    )
    from defectdesk.metrics.models import AccountStatusDay
    from defectdesk.metrics.status import account_status_record
    from defectdesk.policy.profile import METRICS
    from defectdesk.policy.selectors import policy_for

    out: dict[str, Any] = {}
    us = Marketplace.objects.get(code="US")
    policy = policy_for(us.id)
    sizes = list(
        Order.objects.filter(marketplace=us)
        .values("seller_id")
        .annotate(n=Count("id"))
        .order_by("-n", "seller_id")
        .values_list("seller_id", "n")
    )
    out["sellers"] = Seller.objects.count()
    out["sellers_by_market"] = {
        m.code: Order.objects.filter(marketplace=m).values("seller_id").distinct().count()
        for m in Marketplace.objects.all()
    }
    counts = [n for _, n in sizes]
    out["orders_largest"] = counts[0]
    out["orders_median"] = counts[len(counts) // 2]
    out["orders_smallest"] = counts[-1]
    out["head_share"] = sum(counts[: max(1, round(len(counts) / 10_000))]) / sum(counts)
    largest = Seller.objects.get(pk=sizes[0][0])
    smallest = Seller.objects.get(pk=sizes[-1][0])
    # Several small sellers, so that one seller's cached pages do not flatter the figure.
    small = [Seller.objects.get(pk=sid) for sid, _ in sizes[-20:]]
    as_of = END
    first = as_of - timedelta(days=89)
    out["largest"], out["smallest"] = largest.external_id, smallest.external_id

    def history_all(scope: Scope) -> None:
        for metric in METRICS:
            metric_history(scope, metric, first, as_of)

    for label, sellers in (("largest", [largest]), ("small", small)):
        scopes = [Scope(s, us, policy) for s in sellers]
        out[f"health_p50_ms_{label}"] = p50_ms(seller_health, [(sc, as_of) for sc in scopes])
        out[f"history_p50_ms_{label}"] = p50_ms(
            metric_history, [(sc, "order_defect_rate", first, as_of) for sc in scopes]
        )
        out[f"history_all_p50_ms_{label}"] = p50_ms(history_all, [(sc,) for sc in scopes], 50)

    # Every seller at once, against DuckDB on the same rows.
    all_sellers_sums(as_of, us, policy)  # warm
    times = []
    with profiled("all-sellers", profile):
        for _ in range(5):
            started = time.perf_counter()
            sums = all_sellers_sums(as_of, us, policy)
            times.append((time.perf_counter() - started) * 1000)
    out["all_sellers_ms"] = median(times)
    out["all_sellers_count"] = len(sums)
    out["duckdb_ms"], out["duckdb_agrees"] = duckdb_compare(us.id, policy, as_of, sums)

    # The daily status job after `history_days` days of recorded statuses (its steady state),
    # as the scheduler runs it (every marketplace), twice.
    out["status_history_days"] = status_history(as_of, history_days)
    with profiled("status-job", profile):
        started = time.perf_counter()
        first_run = account_status_record(as_of)
        out["status_job_first_s"] = time.perf_counter() - started
    started = time.perf_counter()
    second_run = account_status_record(as_of)
    out["status_job_again_s"] = time.perf_counter() - started
    out["status_recorded"] = first_run["recorded"]
    out["status_changed"] = first_run["changed"]
    out["status_changed_again"] = second_run["changed"]
    out["at_risk_sellers"] = AccountStatusDay.objects.filter(
        day=as_of, status=AccountStatusDay.Status.AT_RISK
    ).count()

    # The at-risk scan of every seller in one pass, and per seller on a sample.
    with profiled("at-risk-scan", profile):
        started = time.perf_counter()
        scan = at_risk_scan(SCAN_NOW)
        out["at_risk_scan_s"] = time.perf_counter() - started
    out["at_risk_scan_orders"] = sum(len(v) for v in scan.values())
    out["at_risk_scan_sellers"] = len(scan)
    everyone = list(Seller.objects.order_by("id"))
    chosen = random.Random(7).sample(everyone, min(sample, len(everyone)))
    agree = True
    started = time.perf_counter()
    for seller in chosen:
        rows = at_risk_orders(seller, SCAN_NOW, limit=10**6)
        mine = sorted(r.order.id for r in scan.get(seller.id, []))
        agree = agree and sorted(r.order.id for r in rows) == mine
    per_seller = (time.perf_counter() - started) / len(chosen)
    out["at_risk_per_seller_ms"] = per_seller * 1000
    out["at_risk_per_seller_all_s"] = per_seller * len(everyone)
    out["at_risk_scan_agrees"] = agree
    return out


def child_rebuild() -> dict[str, Any]:
    """A full rebuild; the largest seller's health must not change."""
    _django()
    from django.db import connection
    from django.db.models import Count

    from defectdesk.accounts.models import Seller
    from defectdesk.ledger.models import Marketplace, Order
    from defectdesk.ledger.rebuild import ledger_rebuild
    from defectdesk.metrics.health import Scope, seller_health
    from defectdesk.policy.selectors import policy_for

    us = Marketplace.objects.get(code="US")
    top = (
        Order.objects.filter(marketplace=us)
        .values("seller_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("seller_id", flat=True)
        .first()
    )
    scope = Scope(Seller.objects.get(pk=top), us, policy_for(us.id))
    before = seller_health(scope, END)
    started = time.monotonic()
    ledger_rebuild()
    seconds = time.monotonic() - started
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return {"rebuild_s": seconds, "rebuild_agrees": seller_health(scope, END) == before}


def _session_for(user: Any, seller: str | None = None) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from bench.web import second_factor_passed, session_backend

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = session_backend()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if seller:
        session["web.seller"] = seller
    else:
        second_factor_passed(session, user)
    session.create()
    return str(session.session_key)


def child_pages(appeals: int) -> dict[str, Any]:
    """Open the appeals, sign in the owners of the largest and the smallest seller and a
    reviewer; the pages of each."""
    _django()
    from django.db.models import Count

    from bench import review, web
    from defectdesk.accounts.models import Seller
    from defectdesk.ledger.models import Order

    console = review.prepare(appeals)
    merchant = web.prepare()
    smallest_id = (
        Order.objects.filter(marketplace__code="US")
        .values("seller_id")
        .annotate(n=Count("id"))
        .order_by("n", "-seller_id")
        .values_list("seller_id", flat=True)
        .first()
    )
    small = Seller.objects.get(pk=smallest_id)
    user = web.bench_user("bench-small-owner", seller=small.external_id, role="owner")
    # A reused database keeps the seller its user was made for (another run may have added
    # orders since).
    membership = user.memberships.select_related("seller").first()
    assert membership is not None
    small = membership.seller
    order = (
        Order.objects.filter(seller=small, marketplace__code="US")
        .select_related("marketplace")
        .first()
    )
    assert order is not None
    small_pages = {
        "trivial view": "/healthz",
        "Account health": "/",
        "Orders": "/orders/",
        "Order page": f"/orders/{order.marketplace.code}/{order.order_ref}/",
        "Appeals": "/appeals/",
    }
    return {
        "opened": console["opened"],
        "console": {"session": console["session"], "pages": console["pages"]},
        "merchant": {"session": merchant["session"], "pages": merchant["pages"]},
        "merchant_seller": merchant["seller"],
        "small": {"session": _session_for(user, small.external_id), "pages": small_pages},
        "small_seller": small.external_id,
    }


def _fmt_target(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_summary(r: dict[str, Any]) -> None:
    sellers = r["sellers"]
    print(
        f"\nledger   {r['orders']:,} orders over {sellers:,} sellers "
        f"(US {r['sellers_by_market'].get('US', 0):,}, "
        f"CN {r['sellers_by_market'].get('CN', 0):,}); "
        f"largest {r['largest']} {r['orders_largest']:,} orders, median "
        f"{r['orders_median']:,}, smallest {r['orders_smallest']:,}; head sellers "
        f"{r['head_share']:.0%} of US orders"
    )
    print(
        f"ingest   {r['events']:,} events in {r['ingest_s']:.0f}s: {r['events_per_s']:,.0f} "
        f"events/s with {r['ingest_workers']} importer processes, peak RSS "
        f"{r['peak_rss_mb']:.0f} MB per process (target >= 20,000: "
        f"{_fmt_target(r['events_per_s'] >= 20_000)}); importers' own CPU "
        f"{r.get('ingest_cpu_s', 0):.0f}s, {r.get('events_per_cpu_s', 0):,.0f}"
        " events per CPU second"
    )
    for label, name in (("largest", r["largest"]), ("small", "the 20 smallest")):
        h = r[f"health_p50_ms_{label}"]
        print(
            f"health   {label:7s} ({name}): p50 {h:.2f} ms (target < 5: {_fmt_target(h < 5)}); "
            f"90-day history p50 {r[f'history_p50_ms_{label}']:.2f} ms one metric, "
            f"{r[f'history_all_p50_ms_{label}']:.2f} ms all seven"
        )
    ratio = r["all_sellers_ms"] / r["duckdb_ms"]
    print(
        f"all      {r['all_sellers_count']:,} US sellers: {r['all_sellers_ms']:.0f} ms; DuckDB "
        f"{r['duckdb_ms']:.0f} ms; ratio {ratio:.1f}x (target <= 10x: {_fmt_target(ratio <= 10)}); "
        f"agree: {r['duckdb_agrees']}"
    )
    per_100k = 100_000 / max(1, r["status_recorded"])
    status_100k = r["status_job_first_s"] * per_100k
    print(
        f"status   daily status job, {r['status_recorded']:,} seller-marketplaces, "
        f"{r.get('status_history_days', 0)} days recorded before: first run "
        f"{r['status_job_first_s']:.1f}s ({r['status_changed']:,} changes announced, "
        f"{r['at_risk_sellers']:,} at risk), again {r['status_job_again_s']:.1f}s "
        f"({r['status_changed_again']} changes); linear to 100,000: {status_100k:.0f}s "
        f"(target < 600 s: {_fmt_target(status_100k < 600)})"
    )
    scan_100k = r["at_risk_scan_s"] * 100_000 / max(1, sellers)
    print(
        f"at-risk  scan of every seller: {r['at_risk_scan_s']:.1f}s "
        f"({r['at_risk_scan_orders']:,} orders of {r['at_risk_scan_sellers']:,} sellers; "
        f"agrees with per-seller on a sample: {r['at_risk_scan_agrees']}); per seller "
        f"{r['at_risk_per_seller_ms']:.1f} ms, {r['at_risk_per_seller_all_s']:.0f}s for all; "
        f"linear to 100,000: {scan_100k:.0f}s (target < 600 s: {_fmt_target(scan_100k < 600)})"
    )
    if "rebuild_s" in r:
        print(
            f"rebuild  full rebuild in {r['rebuild_s']:.0f}s "
            f"({r['events'] / r['rebuild_s']:,.0f} events/s); health unchanged: "
            f"{r['rebuild_agrees']}"
        )


GROWTH = (
    ("events_per_s", "ingest events/s"),
    ("peak_rss_mb", "ingest peak RSS MB"),
    ("events_per_cpu_s", "ingest events/importer CPU s"),
    ("health_p50_ms_largest", "health p50 ms, largest"),
    ("health_p50_ms_small", "health p50 ms, small"),
    ("history_p50_ms_largest", "history p50 ms, largest"),
    ("history_all_p50_ms_largest", "history x7 p50 ms, largest"),
    ("all_sellers_ms", "all sellers ms"),
    ("duckdb_ms", "DuckDB ms"),
    ("status_job_first_s", "status job s (first)"),
    ("status_job_again_s", "status job s (again)"),
    ("at_risk_scan_s", "at-risk scan s"),
    ("at_risk_per_seller_all_s", "at-risk per seller, all s"),
    ("rebuild_s", "rebuild s"),
)


def compare() -> None:
    """The saved runs side by side, smallest first, with the growth of each figure."""
    runs = []
    for path in OUT.glob("scale-*.json"):
        runs.append(json.loads(path.read_text()))
    runs.sort(key=lambda r: (r["orders"], r["sellers"]))
    if not runs:
        sys.exit("no saved runs in bench/out/")
    head = f"{'figure':28s}" + "".join(
        f"{r['orders'] // 1000:>9,}k/{r['sellers'] // 1000}k" for r in runs
    )
    print(head + "   growth per 10x sellers")
    import math

    for key, label in GROWTH:
        values = [r.get(key) for r in runs]
        cells = "".join(f"{v:>14,.2f}" if v is not None else f"{'':>14s}" for v in values)
        growth = ""
        have = [(r["sellers"], v) for r, v in zip(runs, values, strict=True) if v]
        if len(have) >= 2 and have[0][0] != have[-1][0]:
            (s0, v0), (s1, v1) = have[0], have[-1]
            exponent = math.log(v1 / v0) / math.log(s1 / s0)
            growth = f"   x{10**exponent:.2f} (n^{exponent:.2f})"
        print(f"{label:28s}{cells}{growth}")
    for r in runs:
        pages = r.get("pages", {})
        if pages:
            worst = max(pages.items(), key=lambda kv: kv[1]["p99"])
            print(
                f"{r['orders']:,}/{r['sellers']:,}: worst page p99 {worst[1]['p99']:.0f} ms "
                f"({worst[0]})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--sellers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--appeals", type=int, default=20_000, help="open appeals (default 20,000)")
    parser.add_argument("--database", default=None, help="PostgreSQL database (dropped first)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=10, help="seconds per page under wrk")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="the shared cache the app is served with ('' for none)",
    )
    parser.add_argument(
        "--sample", type=int, default=SAMPLE_SELLERS, help="sellers for the per-seller at-risk"
    )
    parser.add_argument(
        "--status-history",
        type=int,
        default=90,
        help="days of statuses recorded before the status job is timed (default 90)",
    )
    parser.add_argument("--no-pages", action="store_true", help="skip the pages under wrk")
    parser.add_argument(
        "--no-measure",
        action="store_true",
        help="with --reuse: take the saved figures and run the pages only",
    )
    parser.add_argument("--no-rebuild", action="store_true", help="skip the full rebuild")
    parser.add_argument(
        "--drop-ledger",
        action="store_true",
        help="delete the generated ledger file once imported (16 GB at 10,000,000 orders)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database as loaded, without importing"
    )
    parser.add_argument("--profile", action="store_true", help="profile the jobs (pyinstrument)")
    parser.add_argument("--compare", action="store_true", help="print the saved runs' growth")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare:
        compare()
        return
    if args.child:
        result = {
            "load": lambda: child_load(
                scale_ledger(args.orders, args.sellers, args.days, args.seed)
            ),
            "measure": lambda: child_measure(args.profile, args.sample, args.status_history),
            "rebuild": child_rebuild,
            "pages": lambda: child_pages(args.appeals),
        }[args.child]()
        print(json.dumps(result))
        return
    if not args.no_pages and not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    if not args.reuse:  # a reused database needs no ledger file
        path = scale_ledger(args.orders, args.sellers, args.days, args.seed)
        print(f"ledger: {path.name}, {path.stat().st_size / 1e6:,.0f} MB", flush=True)
    print(
        f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    db = args.database or f"dd_bench_scale_{args.orders}_{args.sellers}"
    if not args.reuse:
        fresh_postgres(db)
    env = serving_env(db, args.redis)
    env["DATABASE_CONN_MAX_AGE"] = "0"
    common = ["--orders", str(args.orders), "--sellers", str(args.sellers)]
    common += ["--days", str(args.days), "--seed", str(args.seed)]
    common += ["--appeals", str(args.appeals), "--sample", str(args.sample)]
    common += ["--status-history", str(args.status_history)]
    here = Path(__file__)

    def child(kind: str, *extra: str) -> dict[str, Any]:
        started = time.monotonic()
        out = run_child(here, ["--child", kind, *common, *extra], env)
        print(f"  {kind}: {time.monotonic() - started:.0f}s", flush=True)
        return out

    figures: dict[str, Any] = {
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "load_average_start": os.getloadavg()[0],
        "cores": os.cpu_count(),
    }
    if args.reuse:
        saved = OUT / f"scale-{args.orders}-{args.sellers}.json"
        previous = json.loads(saved.read_text()) if saved.exists() else {}
        figures.update(
            {
                k: previous[k]
                for k in (
                    "events",
                    "stored",
                    "orders",
                    "ingest_s",
                    "events_per_s",
                    "peak_rss_mb",
                    "ingest_workers",
                    "ingest_cpu_s",
                    "events_per_cpu_s",
                    "settle_s",
                    "rebuild_s",
                    "rebuild_agrees",
                )
                if k in previous
            }
        )
    else:
        figures.update(child("load"))
        # Saved at once, so that a run cut short after its import can be measured with --reuse.
        (OUT / f"scale-{args.orders}-{args.sellers}.json").write_text(
            json.dumps(figures, indent=1, sort_keys=True)
        )
        if args.drop_ledger:
            path.unlink()  # imported: the rest of the run reads the database
    if args.no_measure:
        saved = OUT / f"scale-{args.orders}-{args.sellers}.json"
        figures = {**json.loads(saved.read_text()), **figures}
    else:
        figures.update(child("measure", *(["--profile"] if args.profile else [])))
    if not args.no_rebuild and not args.reuse:
        figures.update(child("rebuild"))
    saved = OUT / f"scale-{args.orders}-{args.sellers}.json"
    saved.write_text(json.dumps(figures, indent=1, sort_keys=True))
    figures["load_average_end"] = os.getloadavg()[0]
    print_summary(figures)
    if not args.no_pages:
        info = child("pages")
        print(f"{info['opened']['open']:,} open appeals for the reviewer console")
        # The jobs above run with no persistent connections; the served pages keep theirs, as
        # a deployment does (without, every request paid for a new PostgreSQL backend).
        served_env = {**env, "DATABASE_CONN_MAX_AGE": "600"}
        serving = {
            "workers": args.workers,
            "connections": args.connections,
            "duration": args.duration,
        }
        results = drive_pages(
            served_env,
            info["merchant"]["pages"],
            info["merchant"]["session"],
            preload=True,
            check=True,
            **serving,
        )
        small = drive_pages(
            served_env,
            info["small"]["pages"],
            info["small"]["session"],
            preload=True,
            check=True,
            **serving,
        )
        results.update({f"Small seller: {k}": v for k, v in small.items() if k != "trivial view"})
        console = {k: v for k, v in info["console"]["pages"].items() if k != "trivial view"}
        reviewer = drive_pages(
            served_env, console, info["console"]["session"], preload=True, check=True, **serving
        )
        results.update({f"Console: {k}": v for k, v in reviewer.items()})
        print(f"pages: largest seller {info['merchant_seller']}, smallest {info['small_seller']}")
        report(results, **serving, ratio_pages=("Account health", "Orders"))
        figures["pages"] = results
        figures["open_appeals"] = info["opened"]["open"]
    figures["load_average_end"] = os.getloadavg()[0]
    saved = OUT / f"scale-{args.orders}-{args.sellers}.json"
    saved.write_text(json.dumps(figures, indent=1, sort_keys=True))
    print(f"\nfigures saved to {saved}; load average {figures['load_average_end']:.1f}")


if __name__ == "__main__":
    main()
