"""Health as of today, a day not over yet: the counters plus the change points still ahead.

The counters hold each order's memberships as of the end of every day, which is exact for
every day that is over. As of today the cut-off is the present moment (DESIGN §4 "Today is not
over"): an order whose `ship_by` or `deliver_by` comes later today, a buyer message that turns
24 h old tonight, a scan deadline tonight, or anything dated later today is not counted yet.
Only the few orders with such an instant between now and the end of today can differ, so the
correction recomputes just those, once with the cut-off at now and once without, and adds the
difference. Every reader of today's numbers (health, history, explanations, outlook, console,
every-seller status) goes through `today_changes`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from defectdesk.core.datacache import SHOWS_EVERY_SELLER, Shows, cached, shows_sellers
from defectdesk.core.timeutil import day_end, day_start, local_date, zone
from defectdesk.defects.models import Defect
from defectdesk.defects.projection import appeal_cuts, facts_with_appeals
from defectdesk.defects.rules import DefectFact, defect_facts
from defectdesk.ledger.fold import fold_order
from defectdesk.ledger.ingest import load_order_events
from defectdesk.ledger.models import Marketplace, Order
from defectdesk.messaging.models import BuyerMessage
from defectdesk.metrics.core import (
    METRIC_CODE,
    HealthSums,
    MessageFacts,
    OrderFacts,
    contains,
    message_facts,
    order_facts,
    order_memberships,
    window_days,
)
from defectdesk.policy.profile import METRICS, Policy

# Bounds memory only: an entry is keyed by the data version and the day.
PENDING_SECONDS = 3600

# (metric, part, key day ordinal) -> delta to add to the counters' sums as of today.
Changes = dict[tuple[int, int, int], int]


def is_today(marketplace: Marketplace, day: date, now: datetime | None = None) -> bool:
    """Whether `day` is the marketplace's current, unfinished day."""
    return day == local_date(now or timezone.now(), zone(marketplace.timezone))


def pending_orders(
    marketplace: Marketplace, policy: Policy, now: datetime, seller_ids: Iterable[int] | None
) -> list[int]:
    """The orders with an instant in [now, end of today): the only ones today can differ on.

    Indexed slices: deadlines of open orders, defects dated later today, buyer messages that
    turn old tonight (or arrive later today), orders of the windows with an event dated later.
    """
    tz = zone(marketplace.timezone)
    end = day_end(local_date(now, tz), tz)
    hours = timedelta(hours=policy.metrics["contact_response_rate"].response_hours)
    grace = timedelta(hours=policy.defects.scan_grace_hours)
    sellers = None if seller_ids is None else sorted(set(seller_ids))
    if sellers == []:
        return []
    orders = Order.objects.filter(marketplace_id=marketplace.pk)
    defects = Defect.objects.filter(marketplace_id=marketplace.pk)
    messages = BuyerMessage.objects.filter(order__marketplace_id=marketplace.pk)
    if sellers is not None:
        orders = orders.filter(seller_id__in=sellers)
        defects = defects.filter(seller_id__in=sellers)
        messages = messages.filter(seller_id__in=sellers)
    ids: set[int] = set()
    open_orders = orders.filter(cancelled_at__isnull=True)
    ids.update(
        open_orders.filter(shipped_at__isnull=True, ship_by__gte=now, ship_by__lt=end).values_list(
            "id", flat=True
        )
    )
    ids.update(
        open_orders.filter(
            delivered_at__isnull=True, deliver_by__gte=now, deliver_by__lt=end
        ).values_list("id", flat=True)
    )
    ids.update(
        orders.filter(
            shipped_at__isnull=False,
            first_scan_at__isnull=True,
            shipped_at__gte=now - grace,
            shipped_at__lt=end,
        ).values_list("id", flat=True)
    )
    ids.update(
        defects.filter(Q(opened_at__gte=now, opened_at__lt=end)).values_list("order_id", flat=True)
    )
    ids.update(
        messages.filter(received_at__gte=now - hours, received_at__lt=end).values_list(
            "order_id", flat=True
        )
    )
    # Any other event dated later today (a removal, a delivery, a scan): only orders young
    # enough to be in some window can matter (buyer messages were taken above).
    oldest = local_date(now, tz) - timedelta(
        days=max(m.window_days + m.lag_days for m in policy.metrics.values())
    )
    ids.update(
        orders.filter(placed_at__gte=day_start(oldest, tz), last_event_at__gte=now).values_list(
            "id", flat=True
        )
    )
    return sorted(ids)


@dataclass(frozen=True, slots=True)
class Pending:
    """The folded inputs of today's pending orders, found at `found_at`, and their instants.

    Valid for any later moment of the same day under the same data version: the orders with an
    instant in [now, end of today) only shrink as now advances, and the others contribute the
    same with or without a cut-off.
    """

    found_at: datetime
    orders: list[tuple[int, OrderFacts, list[DefectFact], list[MessageFacts]]]  # by seller
    instants: list[datetime]  # sorted: the moments at which today's numbers can move

    def mark(self, now: datetime) -> tuple[int, int]:
        """Which instants have passed at `now`: the changes are the same for an equal mark."""
        return bisect_left(self.instants, now), bisect_right(self.instants, now)


def _instants(
    order: OrderFacts, facts: list[DefectFact], messages: list[MessageFacts], hours: timedelta
) -> list[datetime]:
    out = [t for t in (order.placed_at, order.ship_by, order.deliver_by) if t is not None]
    out += [t for t in (order.shipped_at, order.delivered_at, order.cancelled_at) if t]
    out += [t for f in facts for i in f.intervals for t in i if t is not None]
    for m in messages:
        out += [m.received_at, m.received_at + hours]
        out += [t for t in (m.answered_at, m.no_response_needed_at) if t is not None]
    return out


def _find_pending(
    marketplace: Marketplace, policy: Policy, now: datetime, sellers: list[int] | None
) -> Pending:
    order_ids = pending_orders(marketplace, policy, now, sellers)
    rows = Order.objects.filter(id__in=order_ids).values_list("id", "order_ref", "seller_id")
    by_ref = {ref: (pk, seller) for pk, ref, seller in rows}
    events = load_order_events({(marketplace.pk, ref) for ref in by_ref}) if by_ref else {}
    cuts = appeal_cuts([pk for pk, _ in by_ref.values()]) if by_ref else {}
    hours = timedelta(hours=policy.metrics["contact_response_rate"].response_hours)
    found, instants = [], []
    for (_, ref), evs in events.items():
        state = fold_order(marketplace.code, ref, evs)
        if not state.is_placed:
            continue
        order_id, seller_id = by_ref[ref]
        facts = facts_with_appeals(order_id, defect_facts(state, policy), cuts)
        order, messages = order_facts(state), message_facts(state)
        found.append((seller_id, order, facts, messages))
        instants += [t for t in _instants(order, facts, messages, hours) if t >= now]
    return Pending(now, found, sorted(instants))


@dataclass(frozen=True, slots=True)
class _Key:
    """Where one day's pending orders of some sellers (None: all) are cached."""

    shows: Shows
    parts: tuple[object, ...]


def _key(
    marketplace: Marketplace, policy: Policy, now: datetime, sellers: list[int] | None
) -> _Key:
    tz = zone(marketplace.timezone)
    shows = SHOWS_EVERY_SELLER if sellers is None else shows_sellers(sellers)
    return _Key(shows, (marketplace.pk, tz.key, local_date(now, tz), sellers, policy.profile))


def pending(
    marketplace: Marketplace,
    policy: Policy,
    now: datetime,
    seller_ids: Iterable[int] | None = None,
    *,
    with_orders: bool = True,
) -> Pending:
    """Today's pending orders, found once per data version and day (see `Pending`); without
    their folded orders when only the instants are wanted."""
    sellers = None if seller_ids is None else sorted(set(seller_ids))
    key = _key(marketplace, policy, now, sellers)
    found: list[Pending] = []

    def find() -> Pending:
        found.append(_find_pending(marketplace, policy, now, sellers))
        return replace(found[0], orders=[])

    # The instants are kept apart from the folded orders, which only a changed mark needs.
    light = cached("metrics:today", key.shows, key.parts, find, PENDING_SECONDS)
    if light.found_at > now:  # kept by a caller at a later moment: not valid before it
        return _find_pending(marketplace, policy, now, sellers)
    if not with_orders:
        return light
    if found:
        return found[0]
    at = light.found_at
    orders = cached(
        "metrics:today-orders",
        key.shows,
        (key.parts, at),
        lambda: _find_pending(marketplace, policy, at, sellers).orders,
        PENDING_SECONDS,
    )
    return replace(light, orders=orders)


def pending_mark(
    marketplace: Marketplace, policy: Policy, now: datetime, seller_ids: Iterable[int]
) -> tuple[int, int]:
    """A token that changes whenever one of today's pending instants passes (for caches)."""
    return pending(marketplace, policy, now, seller_ids, with_orders=False).mark(now)


def today_mark(marketplace: Marketplace, policy: Policy, seller_id: int) -> tuple[int, int]:
    """`pending_mark` of one seller now."""
    return pending_mark(marketplace, policy, timezone.now(), [seller_id])


def today_changes(
    marketplace: Marketplace,
    policy: Policy,
    now: datetime | None = None,
    seller_ids: Iterable[int] | None = None,
) -> dict[int, Changes]:
    """Per seller, what to add to the counters' sums to get the numbers as of today at `now`."""
    now = now or timezone.now()
    tz = zone(marketplace.timezone)
    today = local_date(now, tz).toordinal()
    sellers = None if seller_ids is None else sorted(set(seller_ids))
    key = _key(marketplace, policy, now, sellers)
    light = pending(marketplace, policy, now, sellers, with_orders=False)

    def compute() -> dict[int, Changes]:
        found = pending(marketplace, policy, now, sellers)
        out: dict[int, Changes] = defaultdict(dict)
        for seller_id, order, facts, messages in found.orders:
            changes = out[seller_id]
            for sign, cutoff in ((1, now), (-1, None)):
                for m in order_memberships(order, facts, messages, tz, policy, cutoff=cutoff):
                    if contains(m.days, today):
                        k = (m.metric, m.part, m.key_day)
                        changes[k] = changes.get(k, 0) + sign
        return {seller: {k: v for k, v in c.items() if v} for seller, c in out.items()}

    # The same for every moment with the same mark (the same instants passed).
    parts = (key.parts, light.found_at, light.mark(now))
    return cached("metrics:today-changes", key.shows, parts, compute, PENDING_SECONDS)


def add_to_sums(sums: HealthSums, changes: Changes, policy: Policy, as_of: date) -> HealthSums:
    """Add today's changes whose key day lies in each metric's window into part sums."""
    bounds: dict[int, tuple[int, int]] = {}
    for name in METRICS:
        first, last = window_days(policy, name, as_of)
        bounds[METRIC_CODE[name]] = (first.toordinal(), last.toordinal())
    for (metric, part, key), delta in changes.items():
        lo, hi = bounds[metric]
        if lo <= key <= hi:
            parts = sums.sums[metric]
            parts[part] = parts.get(part, 0) + delta
    return sums
