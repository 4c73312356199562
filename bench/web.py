"""Seller Center and reviewer console benchmark: every page under wrk, 1,000,000 orders.

    .venv/bin/python bench/web.py [--orders 1000000] [--connections 8] [--duration 10]

Loads the generated ledger into PostgreSQL once (database dd_bench_web, kept between runs and
reused when it already holds the ledger), opens 20,000 appeals for the reviewer console
(bench/review.py's fixture; --no-console skips the console), serves the app with gunicorn on
loopback, signs in as the owner of the busiest seller and drives each merchant page with wrk,
then signs in as a reviewer and drives the review queue and review page. It prints requests/s
and p50/p99 latency per page, and each page's throughput as a share of a trivial view
(/healthz) served the same way in the same run. Targets: p99 below 150 ms at 8 connections;
Account health and Orders at 30% or more of the trivial view's throughput."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import OUT, ROOT, ledger_file

DB_NAME = "dd_bench_web"
BENCH_USER = "bench-owner"
TRIVIAL = "/healthz"


def _psql(sql: str, db: str = "postgres") -> str:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAtc", sql, db],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    django.setup()


def load(path: Path, expected_orders: int, partial_ok: bool = False) -> dict[str, Any]:
    """In a child process: migrate, and import the ledger unless the database already holds it."""
    _django()
    from django.core.management import call_command
    from django.db import connection

    from defectdesk.core.actors import SYSTEM
    from defectdesk.ledger.actions import marketplace_set
    from defectdesk.ledger.importer import import_path
    from defectdesk.ledger.models import Order

    call_command("migrate", verbosity=0)
    have = Order.objects.count()
    if have >= expected_orders * 0.95 or (partial_ok and have):
        return {"loaded": False, "orders": have, "seconds": 0.0}
    marketplace_set(actor=SYSTEM, code="US", timezone="America/Los_Angeles", currency="USD")
    started = time.monotonic()
    result = import_path(str(path), "ndjson")
    assert not result.rejected, result.rejected[:3]
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    import resource

    seconds = time.monotonic() - started
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "loaded": True,
        "orders": Order.objects.count(),
        "events": result.created,
        "seconds": seconds,
        "events_per_s": result.created / seconds,
        "peak_rss_mb": peak_kb / 1024,
    }


def session_backend() -> str:
    """The authentication backend a signed-in session names: the first that can load a user
    (the sign-in throttle comes first in the list and only refuses)."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    return next(
        path
        for path in settings.AUTHENTICATION_BACKENDS
        if hasattr(import_string(path), "get_user")
    )


def bench_user(username: str, **roles: Any) -> Any:
    """The benchmark's user: made once, and reused when the database already has it."""
    from django.contrib.auth import get_user_model

    from defectdesk.accounts.actions import user_create
    from defectdesk.core.actors import SYSTEM

    found = get_user_model().objects.filter(username=username).first()
    if found is not None:
        return found
    return user_create(actor=SYSTEM, username=username, password=secrets.token_urlsafe(16), **roles)


def second_factor_passed(session: Any, user: Any) -> None:
    """Mark a staff session as past its second factor (reviewers and operators must have one),
    with a confirmed authenticator made for the benchmark's user."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="benchmark", confirmed=True)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id


def prepare() -> dict[str, Any]:
    """In a child process: the bench user (owner of the busiest seller), a session, page URLs."""
    _django()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.db.models import Count

    from defectdesk.accounts.models import Seller
    from defectdesk.appeals.actions import appeal_create
    from defectdesk.appeals.models import Appeal
    from defectdesk.appeals.selectors import appealable_until_many
    from defectdesk.defects.models import Defect
    from defectdesk.ledger.models import Order

    busiest = (
        Order.objects.values("seller_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("seller_id", "n")
        .first()
    )
    assert busiest is not None, "the database holds no orders"
    seller = Seller.objects.get(pk=busiest[0])
    user = bench_user(BENCH_USER, seller=seller.external_id, role="owner")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = session_backend()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["web.seller"] = seller.external_id
    session.create()

    active = list(
        Defect.objects.filter(seller=seller, status=Defect.Status.ACTIVE)
        .select_related("order")
        .order_by("-opened_at")[:200]
    )
    until = appealable_until_many(active)
    from django.utils import timezone

    now = timezone.now()
    open_ones = [d for d in active if until.get(d.pk) and until[d.pk] >= now]
    appeal = Appeal.objects.filter(seller=seller).order_by("-id").first()
    if appeal is None and open_ones:
        appeal = appeal_create(
            actor=user,
            defect=open_ones[0],
            reason="other",
            explanation="The buyer's complaint concerns something outside our control entirely.",
        )
    appealed = set(Appeal.objects.filter(seller=seller).values_list("defect_id", flat=True))
    fresh = next((d for d in open_ones if d.pk not in appealed), None)
    order = active[0].order if active else Order.objects.filter(seller=seller).first()
    assert order is not None
    busiest_ref = order.order_ref
    pages = {
        "trivial view": TRIVIAL,
        "Account health": "/",
        "Orders": "/orders/",
        "Orders: Problem orders": "/orders/?problem=1",
        "Orders: search SKU, page 5": "/orders/?q="
        + quote((order.skus.split(",")[0] or "x").split()[0])
        + "&page=5",
        "Orders: last page": "/orders/?page=9999",
        "Order page": f"/orders/{order.marketplace.code}/{busiest_ref}/",
        "Appeals": "/appeals/",
        "Messages": "/messages/",
        "Notifications": "/notifications/",
        "Users": "/settings/users/",
        "API tokens": "/settings/tokens/",
    }
    if appeal is not None:
        pages["Appeal page"] = f"/appeals/{appeal.pk}/"
    if fresh is not None:
        pages["Appeal form"] = f"/defects/{fresh.pk}/appeal/"
    return {
        "seller": seller.external_id,
        "seller_orders": busiest[1],
        "session": session.session_key,
        "pages": pages,
        "user_id": get_user_model().objects.get(username=BENCH_USER).pk,
    }


def _free_port() -> int:
    """A free loopback port: BENCH_PORT when set (a range set aside for benchmarks), else any."""
    if os.environ.get("BENCH_PORT"):
        return int(os.environ["BENCH_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


_LAT = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def check_page(url: str, cookie: str) -> None:
    """The page answers 200 to the signed-in session (a redirect to sign-in would be cheap)."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
    for _ in range(4):  # every worker answers once before timing starts
        try:
            response = opener.open(request, timeout=60)
        except urllib.error.HTTPError as exc:
            response = exc
        with response:
            status = response.status
        if status != 200:
            where = response.headers.get("Location", "")
            raise RuntimeError(f"{url} answered {status}, not 200 {where}".rstrip())


def wrk(url: str, cookie: str, connections: int, duration: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "10s",
            "-H",
            f"Cookie: sessionid={cookie}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: _ms(v, u) for p, v, u in _LAT.findall(out)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    broken = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = sum(int(g) for g in broken.groups()) if broken else 0
    return {
        "rps": rps,
        "p50": lat.get("50", float("nan")),
        "p99": lat.get("99", float("nan")),
        "errors": float(int(non2xx.group(1)) if non2xx else 0) + failures,
    }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds used so far by these processes (from /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICK


def _serving_pids(server_pid: int, database: str) -> list[int]:
    """The gunicorn workers under `server_pid` and PostgreSQL's backends for `database`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[1]) == server_pid or f"postgres {database} " in command:
            found.append(int(entry.name))
    return found


def static_collected(env: dict[str, str]) -> dict[str, str]:
    """Collect the static files (hashed names, as production serves them) into bench/out; the
    serving environment that points at them (without them every page answers 500)."""
    static = OUT / "web-static"
    subprocess.run(
        [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v0"],
        env={**env, "STATIC_ROOT": str(static)},
        check=True,
    )
    return {**env, "STATIC_ROOT": str(static)}


def drive_pages(
    env: dict[str, str],
    pages: dict[str, str],
    session: str,
    *,
    workers: int,
    connections: int,
    duration: int,
    preload: bool,
    check: bool,
) -> dict[str, dict[str, float]]:
    """Serve the app with gunicorn on loopback and drive each page with wrk; figures by page."""
    port = _free_port()
    serve_env = static_collected(env)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "defectdesk.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
    ]
    server = subprocess.Popen([*command, "--preload"] if preload else command, env=serve_env)
    results: dict[str, dict[str, float]] = {}
    try:
        _wait_up(port)
        base = f"http://127.0.0.1:{port}"
        database = env["DATABASE_URL"].rsplit("/", 1)[-1]
        for name, page in pages.items():
            if check:
                check_page(base + page, session)
            wrk(base + page, session, connections, 2)  # warm up
            # CPU per request (the app's and the database's), which contention moves far less
            # than latency does: on a busy shared machine, the figure to project from.
            pids = _serving_pids(server.pid, database)
            before = _cpu_seconds(pids)
            results[name] = wrk(base + page, session, connections, duration)
            served = results[name]["rps"] * duration
            used = _cpu_seconds(pids) - before
            results[name]["cpu_ms"] = used * 1000 / served if served else float("nan")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def serving_env(db: str, redis_url: str = "") -> dict[str, str]:
    """Create the PostgreSQL database if needed; the environment the app is served with
    (with a shared Redis cache when `redis_url` is given, as docs/scaling.md advises)."""
    if not _psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'"):
        _psql(f"CREATE DATABASE {db}")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "DJANGO_SETTINGS_MODULE": "defectdesk.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "0",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback: no redirect to https
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": f"bench-{db}",
    }
    env.pop("DEFECTDESK_TESTING", None)
    return env


def run_child(script: Path, arguments: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a benchmark script's child step; the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, str(script), *arguments],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def report(
    results: dict[str, dict[str, float]],
    *,
    connections: int,
    duration: int,
    workers: int,
    ratio_pages: tuple[str, ...] = (),
) -> None:
    """Print each page's figures against the targets: p99 below 150 ms, no failed responses,
    and the `ratio_pages` at 30% or more of the trivial view's throughput."""
    trivial = results["trivial view"]["rps"]
    print(f"\n{connections} connections, {duration}s per page, {workers} gunicorn workers\n")
    print(
        f"{'page':40s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'of trivial':>10s} "
        f"{'CPU ms':>7s}  notes"
    )
    failed = []
    for name, r in results.items():
        share = r["rps"] / trivial if trivial else 0.0
        notes = []
        if r["p99"] >= 150:
            notes.append("p99 over 150 ms")
        if name in ratio_pages and share < 0.30:
            notes.append("below 30% of trivial")
        if r["errors"]:
            notes.append(f"{r['errors']:.0f} failed or non-2xx responses")
        if notes:
            failed.append(name)
        print(
            f"{name:40s} {r['rps']:9,.0f} {r['p50']:8.1f} {r['p99']:8.1f} {share:10.0%} "
            f"{r.get('cpu_ms', float('nan')):7.1f}  " + "; ".join(notes)
        )
    print("\nall targets met" if not failed else f"\ntargets missed: {', '.join(failed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--as-loaded",
        action="store_true",
        help="benchmark whatever part of the ledger the database holds, without importing more",
    )
    parser.add_argument(
        "--appeals",
        type=int,
        default=20_000,
        help="open appeals for the reviewer console's pages (bench/review.py's fixture)",
    )
    parser.add_argument(
        "--no-console",
        action="store_true",
        help="drive the merchant pages only, not the review queue and review page",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="the shared cache the app is served with ('' for none: each process on its own)",
    )
    parser.add_argument(
        "--database",
        default="",
        help="PostgreSQL database to use (default dd_bench_web, or dd_bench_web_<orders>)",
    )
    parser.add_argument(
        "--pages",
        default="",
        help="drive only the pages whose names contain one of these comma-separated words "
        "(the trivial view is always driven)",
    )
    parser.add_argument("--child", choices=["load", "prepare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = ledger_file(args.orders, args.sellers, args.days, args.seed)
    if args.child == "load":
        print(json.dumps(load(path, args.orders, args.as_loaded)))
        return
    if args.child == "prepare":
        print(json.dumps(prepare()))
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    # The full ledger lives in dd_bench_web; smaller trial runs get a database of their own.
    db = args.database or (DB_NAME if args.orders == 1_000_000 else f"{DB_NAME}_{args.orders}")
    env = serving_env(db, args.redis)
    print(f"shared cache: {args.redis or 'none (each process caches on its own)'}")
    common = ["--orders", str(args.orders), "--sellers", str(args.sellers)]
    common += ["--days", str(args.days), "--seed", str(args.seed)]
    here = Path(__file__)

    def child(kind: str) -> dict[str, Any]:
        extra = ["--as-loaded"] if args.as_loaded else []
        return run_child(here, ["--child", kind, *common, *extra], env)

    loaded = child("load")
    if loaded["loaded"]:
        print(
            f"loaded {loaded['orders']:,} orders ({loaded['events']:,} events, every projection) "
            f"into {db} in {loaded['seconds']:.0f}s: {loaded['events_per_s']:,.0f} events/s, "
            f"peak RSS {loaded['peak_rss_mb']:.0f} MB per process"
        )
    else:
        print(f"{db} already holds {loaded['orders']:,} of {args.orders:,} orders; not reloaded")
    console: dict[str, Any] | None = None
    if not args.no_console:
        # The reviewer console's fixture first (20,000 open appeals, some of them the busiest
        # seller's), so that the merchant's Appeals page is measured with them too.
        console = run_child(
            here.with_name("review.py"),
            ["--child", "prepare", *common, "--appeals", str(args.appeals)],
            env,
        )
        print(f"{console['opened']['open']:,} open appeals for the reviewer console")
    info = child("prepare")
    print(f"signed in as the owner of {info['seller']} ({info['seller_orders']:,} orders)")
    serving = {
        "workers": args.workers,
        "connections": args.connections,
        "duration": args.duration,
    }
    wanted = [w.strip().lower() for w in args.pages.split(",") if w.strip()]

    def chosen(pages: dict[str, str]) -> dict[str, str]:
        return {
            k: v
            for k, v in pages.items()
            if k == "trivial view" or not wanted or any(w in k.lower() for w in wanted)
        }

    results = drive_pages(
        env, chosen(info["pages"]), info["session"], preload=True, check=True, **serving
    )
    if console is not None:
        pages = {k: v for k, v in chosen(console["pages"]).items() if k != "trivial view"}
        reviewer = drive_pages(env, pages, console["session"], preload=True, check=True, **serving)
        results.update({f"Console: {k}": v for k, v in reviewer.items()})
    report(results, **serving, ratio_pages=("Account health", "Orders"))


if __name__ == "__main__":
    main()
