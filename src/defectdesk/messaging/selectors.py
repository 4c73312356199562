"""Reads of buyer messages and at-risk orders, scoped to what the viewer may see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from defectdesk.accounts.models import Seller
from defectdesk.ledger.models import Marketplace, Order
from defectdesk.messaging.models import BuyerMessage
from defectdesk.messaging.threads import AtRisk, BuyerThreadMessage, OrderFacts, order_risks
from defectdesk.policy.selectors import policy_for


@dataclass(frozen=True, slots=True)
class AtRiskOrder:
    order: Order
    risks: list[AtRisk]


def response_window(marketplace_id: int) -> timedelta:
    """The time a buyer message may wait for its answer: the policy's contact response hours."""
    return timedelta(
        hours=policy_for(marketplace_id).metric("contact_response_rate").response_hours
    )


def buyer_messages_for_seller(
    seller: Seller, marketplace: Marketplace | None = None
) -> QuerySet[BuyerMessage]:
    """A seller's buyer messages, in one marketplace if given."""
    found = BuyerMessage.objects.filter(seller=seller)
    if marketplace is not None:
        found = found.filter(order__marketplace=marketplace)
    return found.select_related("order", "order__marketplace")


def order_buyer_messages(order: Order) -> QuerySet[BuyerMessage]:
    """The buyer's messages on one (already visible) order, oldest first."""
    return BuyerMessage.objects.filter(order=order).order_by("received_at", "id")


def _facts(order: Order) -> OrderFacts:
    return OrderFacts(
        order.fulfillment,
        order.ship_by,
        order.deliver_by,
        order.shipped_at,
        order.tracking_number,
        order.first_scan_at,
        order.delivered_at,
        order.cancelled_at,
        order.return_received_at,
        order.first_refund_at,
    )


def _thread(row: BuyerMessage) -> BuyerThreadMessage:
    return BuyerThreadMessage(
        row.message_id,
        row.received_at,
        row.body,
        row.answered_at,
        row.no_response_needed_at,
        tuple(m for m in row.mentions.split(",") if m),
    )


def _risky_sets(
    mine: QuerySet[Order], open_messages: QuerySet[BuyerMessage], now: datetime
) -> list[QuerySet[Any, int]]:
    """The candidate order ids of each kind of risk (a final check in order_risks decides)."""
    recent = now - timedelta(days=45)
    open_messages = open_messages.filter(
        answered_at__isnull=True,
        no_response_needed_at__isnull=True,
        received_at__gte=recent,
    )
    candidates = [
        mine.filter(  # merchant orders due to ship within a day
            cancelled_at__isnull=True,
            shipped_at__isnull=True,
            fulfillment="merchant",
            ship_by__gte=now,
            ship_by__lte=now + timedelta(hours=24),
        ),
        mine.filter(  # shipped, but the carrier has not scanned the parcel yet
            cancelled_at__isnull=True,
            first_scan_at__isnull=True,
            fulfillment="merchant",
            shipped_at__gte=recent,
        ),
        mine.filter(  # past the deliver-by date and not delivered
            cancelled_at__isnull=True,
            delivered_at__isnull=True,
            deliver_by__lt=now,
            deliver_by__gte=recent,
        ),
        mine.filter(  # a return received and not refunded
            return_received_at__isnull=False,
            first_refund_at__isnull=True,
            return_received_at__lt=now - timedelta(days=2),
            return_received_at__gte=recent,
        ),
    ]
    return [rows.values_list("id", flat=True) for rows in candidates] + [
        open_messages.values_list("order_id", flat=True)
    ]


def _judged(ids: Iterable[int], now: datetime) -> list[AtRiskOrder]:
    """The candidate orders that the at-risk rules flag, each with its risks."""
    wanted = sorted(set(ids))
    threads: dict[int, list[BuyerThreadMessage]] = defaultdict(list)
    result = []
    windows: dict[int, tuple[timedelta, timedelta]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in BuyerMessage.objects.filter(order_id__in=chunk):
            threads[row.order_id].append(_thread(row))
        for order in Order.objects.filter(id__in=chunk).select_related("marketplace"):
            if order.marketplace_id not in windows:
                policy = policy_for(order.marketplace_id)
                windows[order.marketplace_id] = (
                    timedelta(hours=policy.metric("contact_response_rate").response_hours),
                    timedelta(hours=policy.defects.scan_grace_hours),
                )
            response, scan_grace = windows[order.marketplace_id]
            risks = order_risks(_facts(order), threads.pop(order.id, []), now, response, scan_grace)
            if risks:
                result.append(AtRiskOrder(order, risks))
    far = now + timedelta(days=3650)
    result.sort(key=lambda r: (min((x.due or far) for x in r.risks), r.order.id))
    return result


_CHUNK = 5000


def at_risk_orders(
    seller: Seller, now: datetime, limit: int = 500, marketplace_id: int | None = None
) -> list[AtRiskOrder]:
    """Orders of a seller (in one marketplace, if given) likely to become defects."""
    open_messages = BuyerMessage.objects.filter(seller=seller)
    # One query per kind of risk, each a range of a partial index of the open orders (see
    # the Order model), so a large seller's history is never scanned.
    mine = Order.objects.filter(seller=seller)
    if marketplace_id is not None:
        # Narrowed before each slice's limit, so another marketplace cannot crowd it out.
        mine = mine.filter(marketplace_id=marketplace_id)
        open_messages = open_messages.filter(order__marketplace_id=marketplace_id)
    ids: set[int] = set()
    for rows in _risky_sets(mine, open_messages, now):
        ids |= set(rows[:limit])
    return _judged(ids, now)[:limit]


def at_risk_scan(now: datetime, marketplace_id: int | None = None) -> dict[int, list[AtRiskOrder]]:
    """Every seller's at-risk orders (in one marketplace, if given), by seller id.

    The pass over all sellers that a periodic job or a report needs. It runs the same
    candidate queries as at_risk_orders without the seller, each one range of a partial index
    of the open orders, and judges the candidates in chunks of 5,000: a fixed number of
    queries per 5,000 candidates, whatever the number of sellers. Calling at_risk_orders once
    per seller costs seven queries a seller: with bench/scale.py on 100,000 orders over 8,823
    long-tailed sellers, 0.35 s for every seller here against 184 s one seller at a time
    (docs/scaling.md). Each seller's list holds every at-risk order (no limit), in the order
    at_risk_orders gives.
    """
    mine = Order.objects.all()
    open_messages = BuyerMessage.objects.all()
    if marketplace_id is not None:
        mine = mine.filter(marketplace_id=marketplace_id)
        open_messages = open_messages.filter(order__marketplace_id=marketplace_id)
    ids: set[int] = set()
    for rows in _risky_sets(mine, open_messages, now):
        ids |= set(rows)
    found: dict[int, list[AtRiskOrder]] = defaultdict(list)
    for row in _judged(ids, now):
        found[row.order.seller_id].append(row)
    return dict(found)
