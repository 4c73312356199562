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

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from defectdesk.core.timeutil import day_end, day_start, local_date, zone
from defectdesk.defects.models import Defect
from defectdesk.defects.projection import appeal_cuts, facts_with_appeals
from defectdesk.defects.rules import defect_facts
from defectdesk.ledger.fold import fold_order
from defectdesk.ledger.ingest import load_order_events
from defectdesk.ledger.models import Marketplace, Order
from defectdesk.messaging.models import BuyerMessage
from defectdesk.metrics.core import (
    METRIC_CODE,
    HealthSums,
    contains,
    message_facts,
    order_facts,
    order_memberships,
    window_days,
)
from defectdesk.policy.profile import METRICS, Policy

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


def today_changes(
    marketplace: Marketplace,
    policy: Policy,
    now: datetime | None = None,
    seller_ids: Iterable[int] | None = None,
) -> dict[int, Changes]:
    """Per seller, what to add to the counters' sums to get the numbers as of today at `now`."""
    now = now or timezone.now()
    order_ids = pending_orders(marketplace, policy, now, seller_ids)
    if not order_ids:
        return {}
    rows = Order.objects.filter(id__in=order_ids).values_list("id", "order_ref", "seller_id")
    by_ref = {ref: (pk, seller) for pk, ref, seller in rows}
    events = load_order_events({(marketplace.pk, ref) for ref in by_ref})
    cuts = appeal_cuts([pk for pk, _ in by_ref.values()])
    tz = zone(marketplace.timezone)
    today = local_date(now, tz).toordinal()
    out: dict[int, Changes] = defaultdict(dict)
    for (_, ref), evs in events.items():
        state = fold_order(marketplace.code, ref, evs)
        if not state.is_placed:
            continue
        order_id, seller_id = by_ref[ref]
        facts = facts_with_appeals(order_id, defect_facts(state, policy), cuts)
        inputs = (order_facts(state), facts, message_facts(state), tz, policy)
        changes = out[seller_id]
        for sign, cutoff in ((1, now), (-1, None)):
            for m in order_memberships(*inputs, cutoff=cutoff):
                if contains(m.days, today):
                    k = (m.metric, m.part, m.key_day)
                    changes[k] = changes.get(k, 0) + sign
    return {seller: {k: v for k, v in c.items() if v} for seller, c in out.items()}


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
