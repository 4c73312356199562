"""Account status of a handful of sellers at once, for the queue and the policy preview."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.utils import timezone

from defectdesk.core.datacache import SHOWS_SHARED, cached, cached_each
from defectdesk.core.timeutil import local_date, zone
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.core import DEN, NUM, HealthSums, health_json
from defectdesk.metrics.counters import TABLE
from defectdesk.metrics.health import window_clause
from defectdesk.metrics.today import add_to_sums, is_today, pending_mark, today_changes
from defectdesk.policy.profile import Policy
from defectdesk.policy.selectors import policy_for

# Each seller's version in the key makes a stale entry unreachable; the timeout bounds memory.
HEALTH_CACHE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class SellerHealth:
    status: str  # "healthy" or "at_risk"
    failing: tuple[str, ...]
    odr: float | None
    # (metric, rate, numerator, denominator) of every metric, for the links to their lists.
    numbers: tuple[tuple[str, float | None, int, int], ...] = ()


def marketplace_today(marketplace: Marketplace) -> date:
    return local_date(timezone.now(), zone(marketplace.timezone))


def sums_by_seller(
    marketplace: Marketplace, policy: Policy, as_of: date, seller_ids: Iterable[int] | None
) -> dict[int, HealthSums]:
    """Numerators and denominators per seller as of a day (all sellers for None), one query."""
    clause, params = window_clause(policy, as_of)
    # Only numerators and denominators: the status needs nothing else.
    where = "marketplace_id = %s AND change_day <= %s AND part IN (%s, %s)"
    args: list[Any] = [marketplace.pk, as_of, DEN, NUM]
    ids: list[int] | None = None
    if seller_ids is not None:
        ids = sorted(set(seller_ids))
        if not ids:
            return {}
        where += f" AND seller_id IN ({', '.join(['%s'] * len(ids))})"
        args += ids
    out: dict[int, HealthSums] = defaultdict(HealthSums)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT seller_id, metric, part, SUM(delta) FROM {TABLE} "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            f"WHERE {where} AND ({clause}) GROUP BY seller_id, metric, part",
            [*args, *params],
        )
        for seller_id, metric, part, total in cur.fetchall():
            out[seller_id].sums[metric][part] = int(total)
    now = timezone.now()
    if is_today(marketplace, as_of, now):
        for seller_id, changes in today_changes(marketplace, policy, now, ids).items():
            add_to_sums(out[seller_id], changes, policy, as_of)
    return out


def health_of(
    sums: HealthSums, marketplace: Marketplace, policy: Policy, as_of: date
) -> SellerHealth:
    report: dict[str, Any] = health_json("", marketplace.code, as_of, sums, policy)
    metrics: dict[str, dict[str, Any]] = report["metrics"]
    failing = tuple(name for name, item in metrics.items() if item["status"] == "bad")
    return SellerHealth(
        status=str(report["account_status"]),
        failing=failing,
        odr=metrics["order_defect_rate"]["rate"],
        numbers=tuple(
            (name, item["rate"], int(item["numerator"]), int(item["denominator"]))
            for name, item in metrics.items()
        ),
    )


def _markets(ids: Iterable[int]) -> list[tuple[Marketplace, Policy]]:
    """The marketplaces and their policies, read once per version of the data of no seller
    (a marketplace or policy changes only through audited actions, which change it): every
    queue page asked for them, two queries a request."""
    wanted = tuple(sorted(ids))

    def read() -> list[tuple[Marketplace, Policy]]:
        markets = Marketplace.objects.filter(pk__in=wanted).order_by("pk")
        return [(market, policy_for(market.pk)) for market in markets]

    return cached("console:markets", SHOWS_SHARED, wanted, read, HEALTH_CACHE_SECONDS)


def sellers_health(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], SellerHealth]:
    """Today's health of each (seller id, marketplace id), each kept under its seller's data
    version: one query per marketplace for the sellers not cached."""
    by_market: dict[int, set[int]] = defaultdict(set)
    for seller_id, market_id in pairs:
        by_market[market_id].add(seller_id)
    out: dict[tuple[int, int], SellerHealth] = {}
    if not by_market:
        return out
    for market, policy in _markets(by_market):
        today = marketplace_today(market)
        wanted = sorted(by_market[market.pk])
        # Today's numbers also move when a deadline passes tonight: the mark changes then.
        mark = pending_mark(market, policy, timezone.now(), wanted)

        def compute(
            missing: list[int], market: Marketplace = market, policy: Policy = policy
        ) -> dict[int, SellerHealth]:
            today = marketplace_today(market)
            sums = sums_by_seller(market, policy, today, missing)
            return {s: health_of(sums.get(s, HealthSums()), market, policy, today) for s in missing}

        found = cached_each(
            "console:health", (market.pk, today, mark), wanted, compute, HEALTH_CACHE_SECONDS
        )
        out.update({(seller_id, market.pk): health for seller_id, health in found.items()})
    return out


def account_statuses(marketplace: Marketplace, as_of: date) -> dict[int, str]:
    """Every seller's account status in a marketplace as of a day, under the policy in force."""
    policy = policy_for(marketplace.pk)
    return {
        seller_id: health_of(sums, marketplace, policy, as_of).status
        for seller_id, sums in sums_by_seller(marketplace, policy, as_of, None).items()
    }
