"""Account health read from the counters: as of a day, its daily history, every seller at once."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from defectdesk.accounts.models import Seller
from defectdesk.core.datacache import SHOWS_SHARED, cached
from defectdesk.core.errors import BadRequest, FieldError, NotFound
from defectdesk.core.timeutil import local_date, zone
from defectdesk.ledger.models import Marketplace, Order
from defectdesk.messaging.models import BuyerMessage
from defectdesk.metrics.core import (
    DEN,
    METRIC_CODE,
    NUM,
    HealthSums,
    health_json,
    history_from_rows,
    rate_of,
    window_days,
)
from defectdesk.metrics.counters import TABLE
from defectdesk.metrics.today import add_to_sums, is_today, today_changes
from defectdesk.policy.profile import METRICS, Policy
from defectdesk.policy.selectors import policy_for

MAX_HISTORY_DAYS = 400
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Scope:
    """One seller in one marketplace, with the marketplace's policy and today's local date."""

    seller: Seller
    marketplace: Marketplace
    policy: Policy

    @property
    def marketplace_tz(self) -> ZoneInfo:
        return zone(self.marketplace.timezone)

    @property
    def today(self) -> date:
        return local_date(timezone.now(), self.marketplace_tz)

    def received_message_orders(self, first: date, last: date) -> dict[str, int]:
        """The orders (reference: row id) of the buyer messages received on local days `first`
        to `last` (read a day wider on each side in UTC, which covers every marketplace's zone).

        Read from the messages projection (an index on seller and time), not the ledger's
        events, which have no index by seller or time: that scan took 1.3 s a page on the
        1,000,000-order ledger."""
        start = datetime.combine(first - timedelta(days=1), time.min, tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=2), time.min, tzinfo=UTC)
        return dict(
            BuyerMessage.objects.filter(
                seller_id=self.seller.id,
                order__marketplace_id=self.marketplace.id,
                received_at__gte=start,
                received_at__lt=end,
            ).values_list("order__order_ref", "order_id")
        )


def seller_marketplaces(seller: Seller) -> list[Marketplace]:
    """The marketplaces a seller sells in, the one with the most recent order first."""
    found = []
    for market in Marketplace.objects.all():
        last = (
            Order.objects.filter(seller=seller, marketplace=market)
            .order_by("-placed_at")
            .values_list("placed_at", flat=True)
            .first()
        )
        if last is not None:
            found.append((last, market))
    found.sort(key=lambda pair: (pair[0], pair[1].code), reverse=True)
    return [market for _, market in found]


def marketplace_names(markets: list[Marketplace]) -> str:
    return ", ".join(m.code for m in markets) or "none yet"


def marketplace_for_seller(seller: Seller, code: str | None) -> Marketplace:
    """The named marketplace, or the only one the seller sells in (400 when ambiguous).

    A named marketplace must be one the seller sells in (any, for a seller with no orders
    yet); otherwise it is NotFound, and the message names the seller's marketplaces.
    """
    selling = seller_marketplaces(seller)
    if code:
        market = next((m for m in selling if m.code == code), None)
        if market is None and not selling and "\x00" not in code:
            market = Marketplace.objects.filter(code=code).first()
        if market is None:
            raise NotFound(
                f"Seller {seller.external_id} does not sell in marketplace {code[:16]!r}; "
                f"it sells in: {marketplace_names(selling)}."
            )
        return market
    if len(selling) == 1:
        return selling[0]
    markets = list(Marketplace.objects.all()[:2])
    if not selling and len(markets) == 1:
        return markets[0]
    raise BadRequest(
        f"Name the marketplace: seller {seller.external_id} sells in {marketplace_names(selling)}.",
        [
            FieldError(
                "marketplace",
                f"is required here; one of: {marketplace_names(selling)}"
                if selling
                else "is required here: the seller has no orders yet",
            )
        ],
    )


def scope_for(seller: Seller, marketplace: str | None) -> Scope:
    market = marketplace_for_seller(seller, marketplace)
    return Scope(seller, market, policy_for(market.id))


def parse_day(value: str | date | None, field: str, today: date, default: date) -> date:
    """A YYYY-MM-DD day no later than today (the marketplace's), or the default."""
    if value is None or value == "":
        return default
    if isinstance(value, date):
        day = value
    else:
        try:
            text = str(value).strip()
            if not _DAY.fullmatch(text):
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise BadRequest(
                f"{field} is not a date.",
                [FieldError(field, f"must be a date as YYYY-MM-DD, not {value!r}")],
            ) from None
    if day > today:
        raise BadRequest(
            f"{field} is in the future.",
            [
                FieldError(
                    field,
                    f"{day.isoformat()} is after today ({today.isoformat()}) in this "
                    "marketplace; health is known up to today",
                )
            ],
        )
    return day


def metric_windows(policy: Policy, as_of: date) -> list[Any]:
    """(metric code, first key day, last key day) of each metric's window as of a day, flat:
    the parameters of `window_clause` and `windows_table`."""
    params: list[Any] = []
    for name in METRICS:
        lo, hi = window_days(policy, name, as_of)
        params += [METRIC_CODE[name], lo, hi]
    return params


def window_clause(policy: Policy, as_of: date) -> tuple[str, list[Any]]:
    """SQL over the counters that keeps each metric's rows of its window as of a day."""
    clause = " OR ".join(["(metric = %s AND key_day BETWEEN %s AND %s)"] * len(METRICS))
    return clause, metric_windows(policy, as_of)


def windows_table(policy: Policy, as_of: date) -> tuple[str, list[Any]]:
    """Each metric's window as of a day as rows `windows(metric, lo, hi)`, a WITH clause.

    Joined to the counters, every window is its own index range of one seller's rows, where the
    `window_clause` filter read all of the seller's rows in one range and dropped the rest.
    Measured on the 1,000,000-order / 10,000-seller ledger, the largest seller (209,773 orders,
    12,566 counter rows, 3,907 of them in the windows): 4.5 to 5.1 ms a query with the filter,
    1.8 to 2.6 ms joined (medians of 100).
    """
    rows = ", ".join(["(%s, %s, %s)"] * len(METRICS))
    return f"WITH windows(metric, lo, hi) AS (VALUES {rows}) ", metric_windows(policy, as_of)


def health_sums(seller_id: int, marketplace_id: int, as_of: date, policy: Policy) -> HealthSums:
    """Every part of every metric as of a day: one indexed range-sum query per window (as of
    today, with the cut-off at the present moment: see metrics/today.py)."""
    windows, params = windows_table(policy, as_of)
    sums = HealthSums()
    with connection.cursor() as cur:
        cur.execute(
            f"{windows}SELECT c.metric, c.part, SUM(c.delta) FROM windows "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            f"JOIN {TABLE} c ON c.seller_id = %s AND c.marketplace_id = %s "
            "AND c.metric = windows.metric AND c.key_day BETWEEN windows.lo AND windows.hi "
            "AND c.change_day <= %s GROUP BY c.metric, c.part",
            [*params, seller_id, marketplace_id, as_of],
        )
        for metric, part, total in cur.fetchall():
            sums.sums[metric][part] = int(total)
    now = timezone.now()
    if abs((as_of - now.date()).days) > 1:
        return sums  # a day over everywhere on earth
    market = cached(
        "metrics:marketplace",
        SHOWS_SHARED,
        marketplace_id,
        lambda: Marketplace.objects.get(pk=marketplace_id),
        600,
    )
    if is_today(market, as_of, now):
        changes = today_changes(market, policy, now, [seller_id]).get(seller_id, {})
        add_to_sums(sums, changes, policy, as_of)
    return sums


def seller_health(scope: Scope, as_of: date) -> dict[str, Any]:
    """The health JSON of DESIGN §4."""
    sums = health_sums(scope.seller.id, scope.marketplace.id, as_of, scope.policy)
    return health_json(scope.seller.external_id, scope.marketplace.code, as_of, sums, scope.policy)


def history_range(
    scope: Scope, start: str | date | None, end: str | date | None
) -> tuple[date, date]:
    today = scope.today
    last = parse_day(end, "to", today, today)
    first = parse_day(start, "from", today, last - timedelta(days=89))
    if first > last:
        raise BadRequest(
            "The range is reversed.",
            [FieldError("from", f"{first.isoformat()} is after to ({last.isoformat()})")],
        )
    if (last - first).days + 1 > MAX_HISTORY_DAYS:
        raise BadRequest(
            "The range is too long.",
            [
                FieldError(
                    "from",
                    f"at most {MAX_HISTORY_DAYS} days of history at once; "
                    f"{(last - first).days + 1} asked",
                )
            ],
        )
    return first, last


def metric_history(scope: Scope, metric: str, first: date, last: date) -> list[dict[str, Any]]:
    """[{date, rate, numerator, denominator, status}] for every day in [first, last]."""
    if metric not in METRICS:
        raise BadRequest(
            "Unknown metric.",
            [FieldError("metric", f"unknown metric {metric!r}; known: {', '.join(METRICS)}")],
        )
    spec = scope.policy.metrics[metric]
    lo_key = first - timedelta(days=spec.lag_days + spec.window_days - 1)
    hi_key = last - timedelta(days=spec.lag_days)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT part, key_day, change_day, delta FROM {TABLE} "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            "WHERE seller_id = %s AND marketplace_id = %s AND metric = %s "
            "AND key_day BETWEEN %s AND %s AND change_day <= %s AND part IN (%s, %s)",
            [
                scope.seller.id,
                scope.marketplace.id,
                METRIC_CODE[metric],
                lo_key,
                hi_key,
                last,
                DEN,
                NUM,
            ],
        )
        rows = [(part, _ordinal(k), _ordinal(c), d) for part, k, c, d in cur.fetchall()]
    f, la = first.toordinal(), last.toordinal()
    now = timezone.now()
    if is_today(scope.marketplace, last, now):
        # Today's point has its cut-off at the present moment: rows changing only today.
        changes = today_changes(scope.marketplace, scope.policy, now, [scope.seller.id])
        code = METRIC_CODE[metric]
        for (m, part, key), delta in changes.get(scope.seller.id, {}).items():
            if m == code and part in (DEN, NUM):
                rows.append((part, key, la, delta))
    series = history_from_rows(rows, spec.window_days, spec.lag_days, f, la)
    zeros = [0] * (la - f + 1)
    nums, dens = series.get(NUM, zeros), series.get(DEN, zeros)
    out = []
    for i in range(la - f + 1):
        rate = rate_of(nums[i], dens[i])
        out.append(
            {
                "date": date.fromordinal(f + i).isoformat(),
                "rate": rate,
                "numerator": nums[i],
                "denominator": dens[i],
                "status": spec.status(rate),
            }
        )
    return out


def _ordinal(value: Any) -> int:
    return (value if isinstance(value, date) else date.fromisoformat(str(value))).toordinal()


def all_sellers_sums(
    as_of: date, marketplace: Marketplace, policy: Policy
) -> dict[int, HealthSums]:
    """The part sums of every seller of a marketplace as of one day, in one grouped query."""
    clause, params = window_clause(policy, as_of)
    out: dict[int, HealthSums] = defaultdict(HealthSums)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT seller_id, metric, part, SUM(delta) FROM {TABLE} "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            "WHERE marketplace_id = %s AND change_day <= %s "
            f"AND ({clause}) GROUP BY seller_id, metric, part",
            [marketplace.id, as_of, *params],
        )
        for seller_id, metric, part, total in cur.fetchall():
            out[seller_id].sums[metric][part] = int(total)
    now = timezone.now()
    if is_today(marketplace, as_of, now):
        for seller_id, changes in today_changes(marketplace, policy, now).items():
            add_to_sums(out[seller_id], changes, policy, as_of)
    return out
