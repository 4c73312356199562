"""Mixed load: merchants and reviewers at work while events stream in, with Locust.

    nice -n 10 .venv/bin/python bench/load.py --orders 100000 --sellers 10000 \\
        --duration 150 --events-per-s 200

Runs against a database that bench/scale.py loaded (the same --orders and --sellers, or
--database), served by gunicorn on loopback (BENCH_PORT, or any free port). Locust (in a child
process, so that its gevent patching stays out of this one) runs for --duration seconds:

- merchants (owners of the largest seller and of small ones), each signed in: Account health,
  Orders, Problem orders and Appeals pages; health and orders through the API; and filing an
  appeal (draft, then submit) on an active defect that is still appealable;
- reviewers: the review queue and review pages, and deciding appeals through the API;
- ingestion: new orders and their shipments, deliveries and feedback (some negative, so
  that merchants have fresh defects to appeal) through POST /api/v1/events at a steady
  --events-per-s, in batches of --batch, in both marketplaces;
- a probe that posts an order and its cancellation for one seller and polls the seller's
  health until the cancellation shows: the lag from the event's acceptance to its health.

It prints requests/s, p50/p95/p99 and failures for every page and endpoint, the events/s
ingested, and the health lag (p50/p95/max). Targets of the full run (10 minutes on a quiet
machine, at least 5,000 events/s): 0 failures, every page p99 < 300 ms, health lag < 5 s:

    nice -n 10 .venv/bin/python bench/load.py --orders 10000000 --sellers 100000 \\
        --duration 600 --events-per-s 5000 --batch 500 --ingest-users 4 --workers 4

With --backup, the restore drill runs on a backup taken while the load runs: half-way through,
`defectdesk backup` dumps the database and the evidence folder is copied (merchants attach a
file to every appeal they file); after the run, `defectdesk restore-check` restores the dump
into a scratch database and compares row counts, sampled sellers' health and evidence
checksums. The served app keeps its evidence in bench/out/load-var.

Locust rather than wrk scripts: the mix needs per-endpoint percentiles, several kinds of
users with their own sign-in and pacing (constant throughput for the stream), and a measure
that is not a request (the health lag); wrk's Lua gives one latency histogram per process and
no pacing.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import OUT, ROOT, order_placed
from bench.web import (
    _cpu_seconds,
    _free_port,
    _serving_pids,
    _wait_up,
    run_child,
    serving_env,
    static_collected,
)

EXPLANATION = (
    "The buyer's complaint concerns the carrier's handling after the parcel left us; our "
    "records show it was shipped on time with tracking."
)


# A small valid PDF, the evidence every filed appeal carries (so the restore drill has files).
EVIDENCE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def backup_midway(env: dict[str, str], delay: float, dump: Path, media: Path) -> dict[str, Any]:
    """After `delay` seconds, in a thread: `defectdesk backup` and a copy of the evidence."""
    taken: dict[str, Any] = {}

    def take() -> None:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "defectdesk.cli", "backup", str(dump)],
            env=env,
            capture_output=True,
            text=True,
        )
        copy = dump.with_suffix(".media")
        if media.is_dir():
            shutil.copytree(media, copy)
        else:
            copy.mkdir()
        taken.update(
            seconds=time.monotonic() - started,
            output=(done.stdout + done.stderr).strip(),
            ok=done.returncode == 0,
            media=str(copy),
        )

    timer = threading.Timer(delay, take)
    timer.start()
    taken["timer"] = timer
    return taken


def restore_drill(env: dict[str, str], dump: Path, media: str) -> tuple[bool, str]:
    """`defectdesk restore-check` of the backup into a scratch database; passed, its output."""
    scratch = "dd_bench_restore_check"
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {scratch}"],
        check=True,
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "defectdesk.cli",
            "restore-check",
            str(dump),
            "--scratch-database",
            f"postgres://postgres@127.0.0.1:5432/{scratch}",
            "--evidence",
            media,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def prepare(merchants: int, reviewers: int) -> dict[str, Any]:
    """In a child process: users, sessions and API tokens, and the appeals to decide."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
    django.setup()
    from django.db.models import Count

    from bench.scale import _session_for
    from defectdesk.accounts.actions import token_create, user_create
    from defectdesk.accounts.models import Seller
    from defectdesk.appeals.models import Appeal
    from defectdesk.appeals.reasons import CATALOGUE
    from defectdesk.appeals.transitions import Status
    from defectdesk.core.actors import SYSTEM
    from defectdesk.ledger.models import Order

    run = secrets.token_hex(3)
    sizes = list(
        Order.objects.filter(marketplace__code="US")
        .values("seller_id")
        .annotate(n=Count("id"))
        .order_by("-n", "seller_id")
        .values_list("seller_id", flat=True)
    )
    assert sizes, "the database holds no orders: load it with bench/scale.py first"
    # The largest seller, then small ones from the tail.
    step = max(1, len(sizes) // max(1, merchants))
    chosen = [sizes[0]] + [sizes[-1 - i * step] for i in range(merchants - 1)]
    people = []
    for seller_id in chosen:
        seller = Seller.objects.get(pk=seller_id)
        user = user_create(
            actor=SYSTEM,
            username=f"load-{run}-{seller.external_id}",
            password=secrets.token_urlsafe(16),
            seller=seller.external_id,
            role="owner",
        )
        _, token = token_create(actor=SYSTEM, name=f"load {run}", seller=seller.external_id)
        people.append(
            {
                "seller": seller.external_id,
                "session": _session_for(user, seller.external_id),
                "token": token,
            }
        )
    staff = []
    for i in range(reviewers):
        user = user_create(
            actor=SYSTEM,
            username=f"load-{run}-reviewer-{i}",
            password=secrets.token_urlsafe(16),
            reviewer=True,
        )
        staff.append({"session": _session_for(user)})
    _, review_token = token_create(actor=SYSTEM, name=f"load {run} review", scopes=["review"])
    _, ingest_token = token_create(actor=SYSTEM, name=f"load {run} ingest", scopes=["ingest"])
    to_decide = list(
        Appeal.objects.filter(status__in=[Status.SUBMITTED, Status.IN_REVIEW])
        .order_by("review_due_at", "id")
        .values_list("id", flat=True)[:5000]
    )
    sellers = [s for s in Seller.objects.order_by("?").values_list("external_id", flat=True)[:500]]
    return {
        "merchants": people,
        "reviewers": staff,
        "review_token": review_token,
        "ingest_token": ingest_token,
        "appeals": to_decide,
        "sellers": sellers + [p["seller"] for p in people],
        "probe": people[-1],
        "reasons": {kind: [r.code for r in reasons] for kind, reasons in CATALOGUE.items()},
    }


def run_locust(config: dict[str, Any]) -> dict[str, Any]:
    """In a child process: the Locust users for config["duration"] seconds; their figures."""
    from datetime import UTC, datetime, timedelta
    from itertools import count
    from random import Random

    import gevent
    from locust import HttpUser, constant_throughput, events, task
    from locust.env import Environment

    base = config["host"]
    rng = Random(7)  # nosec B311 # load-test choices, not secrets
    ids = count()
    run = secrets.token_hex(4)
    lags: list[float] = []
    asked_after: list[float] = []
    ingested = [0]
    filed: set[int] = set()

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def placed(seller: str, market: str, now: datetime, n: int) -> dict[str, Any]:
        return order_placed(
            event_id=f"load-{run}-{n}",
            order_ref=f"LD-{run}-{n:09d}",
            seller=seller,
            market=market,
            at=now,
            buyer=f"B-load-{n % 5000}",
            payment_ref=f"pi_load_{run}_{n}",
        )

    def follow(order: dict[str, Any], kind: str, now: datetime, data: dict[str, Any]) -> dict:
        return {
            "id": f"load-{run}-{next(ids)}-{kind}",
            "type": kind,
            "occurred_at": stamp(now),
            "marketplace": order["marketplace"],
            "seller": order["seller"],
            "order": order["order"],
            "data": data,
        }

    merchants = list(config["merchants"])
    reviewers = list(config["reviewers"])
    appeals = list(config["appeals"])
    merchant_sellers = {m["seller"] for m in merchants}

    class Merchant(HttpUser):
        host = base
        weight = 4

        def wait_time(self) -> float:
            return config["think"] * (0.5 + rng.random())

        def on_start(self) -> None:
            self.me = merchants[rng.randrange(len(merchants))]
            self.client.cookies.set("sessionid", self.me["session"])
            self.api = {"Authorization": f"Bearer {self.me['token']}"}

        @task(4)
        def health_page(self) -> None:
            self.client.get("/", name="page: Account health")

        @task(3)
        def orders_page(self) -> None:
            self.client.get("/orders/", name="page: Orders")

        @task(1)
        def problem_page(self) -> None:
            self.client.get("/orders/?problem=1", name="page: Problem orders")

        @task(1)
        def appeals_page(self) -> None:
            self.client.get("/appeals/", name="page: Appeals")

        @task(2)
        def health_api(self) -> None:
            self.client.get(
                f"/api/v1/sellers/{self.me['seller']}/health?marketplace=US",
                headers=self.api,
                name="GET /api/v1/sellers/{seller}/health",
            )

        @task(1)
        def orders_api(self) -> None:
            self.client.get(
                f"/api/v1/orders?seller={self.me['seller']}",
                headers=self.api,
                name="GET /api/v1/orders",
            )

        @task(1)
        def file_appeal(self) -> None:
            found = self.client.get(
                f"/api/v1/defects?seller={self.me['seller']}&status=active&page_size=100",
                headers=self.api,
                name="GET /api/v1/defects",
            )
            if found.status_code != 200:
                return
            now = datetime.now(UTC)
            open_ones = [
                d
                for d in found.json()["items"]
                if d["id"] not in filed
                and d["appealable_until"]
                and datetime.fromisoformat(d["appealable_until"]) > now + timedelta(minutes=1)
                and config["reasons"].get(d["kind"])
            ]
            if not open_ones:
                return
            defect = open_ones[0]
            filed.add(defect["id"])
            with self.client.post(
                "/api/v1/appeals",
                json={
                    "defect": defect["id"],
                    "reason": config["reasons"][defect["kind"]][0],
                    "explanation": EXPLANATION,
                },
                headers=self.api,
                name="POST /api/v1/appeals",
                catch_response=True,
            ) as made:
                if made.status_code == 409:
                    made.success()  # appealed before this run: not the server's fault
                    return
            if made.status_code in (200, 201):
                self.client.post(
                    f"/api/v1/appeals/{made.json()['id']}/files",
                    files={"file": ("tracking.pdf", EVIDENCE, "application/pdf")},
                    headers=self.api,
                    name="POST /api/v1/appeals/{id}/files",
                )
                self.client.post(
                    f"/api/v1/appeals/{made.json()['id']}/submit",
                    headers=self.api,
                    name="POST /api/v1/appeals/{id}/submit",
                )

    class Reviewer(HttpUser):
        host = base
        weight = 1

        def wait_time(self) -> float:
            return config["think"] * (0.5 + rng.random())

        def on_start(self) -> None:
            me = reviewers[rng.randrange(len(reviewers))]
            self.client.cookies.set("sessionid", me["session"])
            self.api = {"Authorization": f"Bearer {config['review_token']}"}

        @task(3)
        def queue(self) -> None:
            self.client.get("/review/", name="page: Review queue")

        @task(2)
        def review_page(self) -> None:
            if appeals:
                appeal = appeals[rng.randrange(len(appeals))]
                self.client.get(f"/review/appeals/{appeal}/", name="page: Review page")

        @task(1)
        def decide(self) -> None:
            if not appeals:
                return
            appeal = appeals.pop()
            self.client.post(
                f"/api/v1/appeals/{appeal}/decide",
                json={"decision": "deny", "note": "The tracking shows a late delivery."},
                headers=self.api,
                name="POST /api/v1/appeals/{id}/decide",
            )

    per_user = config["events_per_s"] / config["ingest_users"]

    class Ingest(HttpUser):
        host = base
        fixed_count = config["ingest_users"]
        wait_time = constant_throughput(per_user / config["batch"])

        def on_start(self) -> None:
            self.api = {"Authorization": f"Bearer {config['ingest_token']}"}
            self.open: list[tuple[dict[str, Any], int]] = []

        @task
        def stream(self) -> None:
            now = datetime.now(UTC)
            batch = []
            while len(batch) < config["batch"]:
                if self.open and (len(self.open) > 2000 or rng.random() < 0.5):
                    order, stage = self.open.pop(0)
                    if stage == 0:
                        data = {"carrier": "UPS", "service": "Ground", "tracking_number": "1Z1"}
                        batch.append(follow(order, "order.shipped", now, data))
                        self.open.append((order, 1))
                    elif stage == 1:
                        batch.append(follow(order, "order.delivered", now, {"signature": False}))
                        self.open.append((order, 2))
                    else:
                        bad = order["seller"] in merchant_sellers and rng.random() < 0.3
                        data = {
                            "feedback_id": f"FB-{order['order']}",
                            "rating": 1 if bad else 5,
                            "comment": "Arrived broken." if bad else "Great, thanks!",
                        }
                        batch.append(follow(order, "feedback.posted", now, data))
                else:
                    n = next(ids)
                    seller = config["sellers"][rng.randrange(len(config["sellers"]))]
                    market = "US" if rng.random() < 0.7 else "CN"
                    order = placed(seller, market, now, n)
                    batch.append(order)
                    self.open.append((order, 0))
            with self.client.post(
                "/api/v1/events",
                json=batch,
                headers=self.api,
                name="POST /api/v1/events",
                catch_response=True,
            ) as answer:
                if answer.status_code == 200:
                    body = answer.json()
                    if body["rejected"]:
                        answer.failure(f"rejected: {body['rejected'][:1]}")
                    ingested[0] += body["created"] + body["duplicates"]

    probe = config["probe"]

    class Probe(HttpUser):
        host = base
        fixed_count = 1

        def wait_time(self) -> float:
            return 2.0

        def on_start(self) -> None:
            self.api = {"Authorization": f"Bearer {probe['token']}"}
            self.ingest = {"Authorization": f"Bearer {config['ingest_token']}"}

        def cancels(self) -> int | None:
            got = self.client.get(
                f"/api/v1/sellers/{probe['seller']}/health?marketplace=US",
                headers=self.api,
                name="probe: GET health",
            )
            if got.status_code != 200:
                return None
            metric = got.json()["metrics"]["pre_fulfillment_cancel_rate"]
            return int(metric["numerator"]) + int(metric["denominator"])

        @task
        def lag(self) -> None:
            before = self.cancels()
            if before is None:
                return
            now = datetime.now(UTC)
            order = placed(probe["seller"], "US", now, next(ids))
            gone = follow(
                order, "order.cancelled", now, {"requested_by": "seller", "reason": "out_of_stock"}
            )
            sent = self.client.post(
                "/api/v1/events", json=[order, gone], headers=self.ingest, name="probe: POST events"
            )
            if sent.status_code != 200:
                return
            accepted = time.monotonic()
            while time.monotonic() - accepted < 30:
                asked = time.monotonic()
                seen = self.cancels()
                if seen is not None and seen >= before + 2:
                    lag_ms = (time.monotonic() - accepted) * 1000
                    lags.append(lag_ms)
                    # The poll that saw it was asked this long after the acceptance: the
                    # staleness itself, without that poll's own response time.
                    asked_after.append((asked - accepted) * 1000)
                    events.request.fire(
                        request_type="LAG",
                        name="health reflects an accepted event",
                        response_time=lag_ms,
                        response_length=0,
                        exception=None,
                        context={},
                    )
                    return
                gevent.sleep(0.05)
            events.request.fire(
                request_type="LAG",
                name="health reflects an accepted event",
                response_time=30_000,
                response_length=0,
                exception=RuntimeError("health did not reflect the event within 30 s"),
                context={},
            )

    env = Environment(user_classes=[Merchant, Reviewer, Ingest, Probe], events=events)
    runner = env.create_local_runner()
    users = config["merchant_users"] + config["reviewer_users"] + config["ingest_users"] + 1
    started = time.monotonic()
    runner.start(users, spawn_rate=users)
    gevent.spawn_later(config["duration"], runner.quit)
    runner.greenlet.join()
    elapsed = time.monotonic() - started
    figures: dict[str, Any] = {"seconds": elapsed, "events_ingested": ingested[0], "rows": {}}
    for (name, method), entry in sorted(env.stats.entries.items()):
        label = name if method == "LAG" or name.startswith(method) else f"{method} {name}"
        figures["rows"][label] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "rps": entry.num_requests / elapsed,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": entry.max_response_time,
        }
    figures["errors"] = {str(k): v.occurrences for k, v in env.stats.errors.items()}
    lags.sort()
    asked_after.sort()
    figures["lag_ms"] = {
        "count": len(lags),
        "p50": lags[len(lags) // 2] if lags else None,
        "p95": lags[int(len(lags) * 0.95)] if lags else None,
        "max": lags[-1] if lags else None,
        "asked_after_max": asked_after[-1] if asked_after else None,
    }
    return figures


def print_report(r: dict[str, Any], config: dict[str, Any]) -> None:
    seconds = r["seconds"]
    print(
        f"\n{seconds:.0f}s; {config['merchant_users']} merchants, {config['reviewer_users']} "
        f"reviewers, {config['ingest_users']} ingest clients at {config['events_per_s']:,} "
        f"events/s in batches of {config['batch']}, {config['workers']} gunicorn workers\n"
    )
    print(
        f"{'page or endpoint':48s} {'req/s':>7s} {'p50':>6s} {'p95':>6s} {'p99':>6s} {'fail':>5s}"
    )
    total = failures = 0
    worst = 0.0
    for name, row in r["rows"].items():
        if name.startswith("health reflects"):
            continue
        total += row["requests"]
        failures += row["failures"]
        if "page:" in name:
            worst = max(worst, row["p99"])
        print(
            f"{name[:48]:48s} {row['rps']:7.1f} {row['p50']:6.0f} {row['p95']:6.0f} "
            f"{row['p99']:6.0f} {row['failures']:5d}"
        )
    print(f"\nthroughput {total / seconds:.1f} requests/s; {failures} failures")
    for error, times in r["errors"].items():
        print(f"  {times} x {error[:160]}")
    rate = r["events_ingested"] / seconds
    print(
        f"ingested {r['events_ingested']:,} events: {rate:,.0f} events/s "
        f"(asked {config['events_per_s']:,}; the full run's target >= 5,000)"
    )
    lag = r["lag_ms"]
    if lag["count"]:
        print(
            f"health lag after an accepted event: p50 {lag['p50']:.0f} ms, p95 "
            f"{lag['p95']:.0f} ms, max {lag['max']:.0f} ms over {lag['count']} probes "
            f"(target: never above 5,000 ms: {'ok' if lag['max'] <= 5000 else 'MISSED'}); "
            f"the poll that first saw it was asked at most {lag['asked_after_max']:.0f} ms "
            "after the acceptance (the rest is that poll's own response time)"
        )
    cpu = r.get("server_cpu_s")
    if cpu:
        print(
            f"server CPU (gunicorn workers and their PostgreSQL backends): {cpu:.0f}s over "
            f"{seconds:.0f}s, {cpu / seconds:.2f} cores; {total / cpu:.1f} requests and "
            f"{r['events_ingested'] / cpu:,.0f} events per server CPU second"
        )
    print(
        f"pages' worst p99 {worst:.0f} ms (target < 300 ms: {'ok' if worst < 300 else 'MISSED'}); "
        f"failures {failures} (target 0: {'ok' if failures == 0 else 'MISSED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--sellers", type=int, default=100_000)
    parser.add_argument("--database", default=None, help="default: bench/scale.py's database")
    parser.add_argument("--duration", type=int, default=600, help="seconds (default 600)")
    parser.add_argument("--events-per-s", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500, help="events per POST")
    parser.add_argument("--ingest-users", type=int, default=2)
    parser.add_argument("--merchants", type=int, default=12, help="merchant users")
    parser.add_argument("--reviewers", type=int, default=3, help="reviewer users")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between actions")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="the shared cache the app is served with ('' for none)",
    )
    parser.add_argument(
        "--backup",
        action="store_true",
        help="back up half-way through and run the restore drill on that backup after the run",
    )
    parser.add_argument("--child", choices=["prepare", "locust"], help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "prepare":
        print(json.dumps(prepare(args.merchants, args.reviewers)))
        return
    if args.child == "locust":
        config = json.loads(Path(args.config).read_text())
        print(json.dumps(run_locust(config)))
        return
    db = args.database or f"dd_bench_scale_{args.orders}_{args.sellers}"
    env = serving_env(db, args.redis)
    env["DEFECTDESK_VAR_DIR"] = str(OUT / "load-var")
    here = Path(__file__)
    wanted = ["--merchants", str(args.merchants), "--reviewers", str(args.reviewers)]
    info = run_child(here, ["--child", "prepare", *wanted], env)
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "defectdesk.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--chdir",
            str(ROOT),
            "--preload",
        ],
        env=static_collected(env),
    )
    config = {
        **info,
        "host": f"http://127.0.0.1:{port}",
        "duration": args.duration,
        "events_per_s": args.events_per_s,
        "batch": args.batch,
        "ingest_users": args.ingest_users,
        "merchant_users": args.merchants,
        "reviewer_users": args.reviewers,
        "think": args.think,
        "workers": args.workers,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    config_path = OUT / "load-config.json"
    config_path.write_text(json.dumps(config))
    try:
        _wait_up(port)
        started = time.monotonic()
        database = env["DATABASE_URL"].rsplit("/", 1)[-1]
        # Per process: the database's backends for the workers open during the run.
        cpu_before = {pid: _cpu_seconds([pid]) for pid in _serving_pids(server.pid, database)}
        backup: dict[str, Any] = {}
        if args.backup:
            dump = OUT / f"load-backup-{time.strftime('%Y%m%d-%H%M%S')}.dump"
            media = Path(env["DEFECTDESK_VAR_DIR"]) / "media"
            backup = backup_midway(env, args.duration / 2, dump, media)
        done = subprocess.run(
            [sys.executable, str(here), "--child", "locust", "--config", str(config_path)],
            env={**os.environ},
            check=True,
            capture_output=True,
            text=True,
            timeout=args.duration + 300,
        )
        server_cpu = sum(
            _cpu_seconds([pid]) - cpu_before.get(pid, 0.0)
            for pid in _serving_pids(server.pid, database)
        )
        print(f"load ran {time.monotonic() - started:.0f}s, load average {os.getloadavg()[0]:.1f}")
    finally:
        server.terminate()
        server.wait(timeout=60)
        config_path.unlink(missing_ok=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["server_cpu_s"] = server_cpu
    result["load_average_end"] = os.getloadavg()[0]
    print_report(result, config)
    if backup:
        backup.pop("timer").join()
        print(f"backup taken half-way through the run in {backup['seconds']:.1f} s:")
        print(f"  {backup['output']}")
        passed, output = restore_drill(env, dump, backup["media"]) if backup["ok"] else (False, "")
        print("restore drill " + ("passed" if passed else "FAILED") + ":")
        print("  " + output.replace("\n", "\n  "))
        result["restore_drill"] = {"passed": passed, "output": output, "backup": backup}
    (OUT / f"load-{args.orders}-{args.sellers}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
