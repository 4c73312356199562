"""Merchant and console reads on a real streaming replica: a PostgreSQL primary and a
pg_basebackup copy of it on loopback, the merchant journey run against them, and the reads
counted on the replica (pg_stat_statements)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.pgcluster import PRIMARY_PORT, REPLICA_PORT, Clusters, clusters_dir, pg_bindir

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="a read replica is a PostgreSQL feature: this runs in the PostgreSQL run of the suite "
    "(DATABASE_URL=postgres://...), not on SQLite",
)

# The test database is dropped at the end of the run, so statements are matched by text alone.
REPLICA_READS = (
    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
    "WHERE query ILIKE 'SELECT%' AND query LIKE '%FROM \"{table}\"%'"
)


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    bindir = pg_bindir()
    if bindir is None:
        pytest.fail("the PostgreSQL server programs are missing: apt-get install -y postgresql")
    made = Clusters(clusters_dir(), bindir)
    made.make()
    try:
        yield made
    finally:
        made.stop_all()
        shutil.rmtree(made.base, ignore_errors=True)


def _reads(clusters: Clusters, table: str) -> int:
    return int(clusters.psql(REPLICA_PORT, REPLICA_READS.format(table=table)))


def _pytest(clusters: Clusters, *paths: str, sticky: int = 10) -> str:
    """Run these tests in a pytest of their own whose database has the replica; its summary."""
    name = "wt_ops_replica"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=clusters.url(PRIMARY_PORT, name),
        DATABASE_REPLICA_URL=clusters.url(REPLICA_PORT, name),
        DEFECTDESK_TEST_PG_DIR=str(clusters.base),
        DEFECTDESK_TESTING="1",
        REPLICA_STICKY_SECONDS=str(sticky),
    )
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", "-q", *paths],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout[-6000:] + done.stderr[-3000:]
    assert done.returncode == 0, output
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, output
    return summary


def _select_calls(clusters: Clusters) -> int:
    sql = "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query ILIKE 'SELECT%'"
    return int(clusters.psql(REPLICA_PORT, sql))


def test_routing_and_fallback_on_a_streaming_replica(clusters: Clusters) -> None:
    summary = _pytest(clusters, "tests/replica_checks.py")
    print(f"\nreplica checks: {summary}")


def test_merchant_journey_passes_with_reads_on_the_replica(clusters: Clusters) -> None:
    clusters.psql(REPLICA_PORT, "SELECT pg_stat_statements_reset()")
    # The journey clicks faster than the default 10 s read-your-writes window, which would keep
    # it on the primary throughout: with 1 s most of its pages read from the replica.
    summary = _pytest(clusters, "tests/browser/test_merchant_journey.py", sticky=1)
    tables = ("ledger_order", "defects_defect", "appeals_appeal", "metrics_dailycounter")
    reads = {t: _reads(clusters, t) for t in tables}
    print(f"\nmerchant journey: {summary}; SELECTs run on the replica: {_select_calls(clusters)}")
    print(f"by table: {reads}")
    assert reads["ledger_order"] > 0, reads
