"""Reviewer console benchmark: the review queue and review page under wrk with 20,000 open appeals.

    .venv/bin/python bench/review.py [--orders 300000] [--appeals 20000] [--connections 8]

Follows bench/web.py: loads the generated ledger into PostgreSQL once (database
dd_bench_review, kept and reused between runs), opens 20,000 appeals on distinct active defects
(rows written directly, as the benchmark's fixture; the console itself only ever reads them),
serves the app with gunicorn on loopback, signs in as a reviewer and drives each page with wrk.
It prints requests/s and p50/p99 latency per page and each page's throughput as a share of a
trivial view (/healthz). Target: p99 below 150 ms at 8 connections.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ledger_file
from bench.web import (
    _django,
    bench_user,
    drive_pages,
    load,
    report,
    run_child,
    second_factor_passed,
    serving_env,
    session_backend,
)

DB_NAME = "dd_bench_review"
BENCH_USER = "bench-reviewer"
TRIVIAL = "/healthz"
EXPLANATION = (
    "The buyer's complaint concerns the carrier's handling after the parcel left us; our "
    "records show it was shipped on time with tracking."
)


def open_appeals(wanted: int) -> dict[str, Any]:
    """Open appeals until `wanted` are awaiting review, on distinct active defects."""
    from django.db import connection
    from django.utils import timezone

    from defectdesk.appeals.models import Appeal
    from defectdesk.appeals.reasons import reasons_for
    from defectdesk.appeals.transitions import REVIEW_STATUSES, Status
    from defectdesk.defects.models import Defect

    have = Appeal.objects.filter(status__in=sorted(REVIEW_STATUSES)).count()
    if have >= wanted:
        return {"created": 0, "open": have, "seconds": 0.0}
    started = time.monotonic()
    taken = Appeal.objects.values_list("defect_id", flat=True)
    defects = list(
        Defect.objects.filter(status=Defect.Status.ACTIVE)
        .exclude(pk__in=taken)
        .order_by("id")
        .values_list("pk", "seller_id", "marketplace_id", "kind")[: wanted - have]
    )
    now = timezone.now()
    rows = []
    for i, (defect_id, seller_id, market_id, kind) in enumerate(defects):
        submitted = now - timedelta(minutes=(i * 7) % (3 * 24 * 60))
        status = (Status.SUBMITTED, Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED)[
            i % 4
        ]
        reasons = reasons_for(kind)
        rows.append(
            Appeal(
                defect_id=defect_id,
                defect_kind=kind,
                seller_id=seller_id,
                marketplace_id=market_id,
                status=status,
                reason=reasons[0].code if reasons else "other",
                explanation=EXPLANATION,
                created_at=submitted,
                updated_at=submitted,
                submitted_at=submitted,
                review_due_at=submitted + timedelta(hours=48),
                info_due_at=now + timedelta(hours=24) if status == Status.INFO_REQUESTED else None,
                recommendations=[{"rule": "scan_before_ship_by", "mode": "recommend", "facts": {}}]
                if i % 10 == 0
                else [],
                system_evidence={"order": {"fulfillment": "merchant"}, "timeline": []},
            )
        )
    Appeal.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {
        "created": len(rows),
        "open": Appeal.objects.filter(status__in=sorted(REVIEW_STATUSES)).count(),
        "seconds": time.monotonic() - started,
    }


def prepare(appeals: int) -> dict[str, Any]:
    """In a child process: the appeals, the bench reviewer, a session and the page URLs."""
    _django()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from defectdesk.appeals.models import Appeal
    from defectdesk.appeals.transitions import REVIEW_STATUSES

    opened = open_appeals(appeals)
    user = bench_user(BENCH_USER, reviewer=True)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = session_backend()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    second_factor_passed(session, user)
    session.create()
    queue = Appeal.objects.filter(status__in=sorted(REVIEW_STATUSES)).order_by(
        "review_due_at", "id"
    )
    urgent = queue.select_related("defect__order", "seller").first()
    assert urgent is not None, "no open appeal: the ledger has too few active defects"
    middle = queue[queue.count() // 2]
    pages = {
        "trivial view": TRIVIAL,
        "Review queue": "/review/",
        "Review queue: overdue": "/review/?overdue=1",
        "Review queue: page 400": "/review/?page=400",
        "Review queue: kind filter": "/review/?kind=late_shipment&status=submitted",
        "Review queue: search order": "/review/?q=" + urgent.defect.order.order_ref[:9],
        "Review queue: search seller": "/review/?q=" + urgent.seller.external_id,
        "Review page (most urgent)": f"/review/appeals/{urgent.pk}/",
        "Review page (middle)": f"/review/appeals/{middle.pk}/",
        "Reviewer statistics": "/review/stats/",
    }
    return {"opened": opened, "session": session.session_key, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--appeals", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--database",
        default=DB_NAME,
        help="PostgreSQL database to use (e.g. dd_bench_web, which bench/web.py loads with "
        "the 1,000,000-order ledger: pass --orders 1000000 with it)",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="the shared cache the app is served with ('' for none: each process on its own)",
    )
    parser.add_argument("--child", choices=["load", "prepare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = ledger_file(args.orders, args.sellers, args.days, args.seed)
    if args.child == "load":
        print(json.dumps(load(path, args.orders)))
        return
    if args.child == "prepare":
        print(json.dumps(prepare(args.appeals)))
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    db = args.database
    env = serving_env(db, args.redis)
    common = ["--orders", str(args.orders), "--sellers", str(args.sellers)]
    common += ["--days", str(args.days), "--seed", str(args.seed), "--appeals", str(args.appeals)]
    here = Path(__file__)
    loaded = run_child(here, ["--child", "load", *common], env)
    if loaded["loaded"]:
        print(f"loaded {loaded['orders']:,} orders into {db} in {loaded['seconds']:.0f}s")
    else:
        print(f"{db} already holds the ledger ({loaded['orders']:,} orders); not reloaded")
    info = run_child(here, ["--child", "prepare", *common], env)
    opened = info["opened"]
    print(
        f"{opened['open']:,} open appeals ({opened['created']:,} opened now in "
        f"{opened['seconds']:.0f}s); signed in as {BENCH_USER}"
    )
    serving = {
        "workers": args.workers,
        "connections": args.connections,
        "duration": args.duration,
    }
    results = drive_pages(
        env, info["pages"], info["session"], preload=False, check=False, **serving
    )
    report(results, **serving)


if __name__ == "__main__":
    main()
