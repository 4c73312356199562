"""Reads of buyer messages and at-risk orders, scoped to what the viewer may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

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


def at_risk_orders(
    seller: Seller, now: datetime, limit: int = 500, marketplace_id: int | None = None
) -> list[AtRiskOrder]:
    """Orders of a seller (in one marketplace, if given) likely to become defects."""
    recent = now - timedelta(days=45)
    open_messages = BuyerMessage.objects.filter(
        seller=seller,
        answered_at__isnull=True,
        no_response_needed_at__isnull=True,
        received_at__gte=recent,
    )
    # One query per kind of risk, each a range of a partial index of the open orders (see
    # the Order model), so a large seller's history is never scanned.
    mine = Order.objects.filter(seller=seller)
    if marketplace_id is not None:
        # Narrowed before each slice's limit, so another marketplace cannot crowd it out.
        mine = mine.filter(marketplace_id=marketplace_id)
        open_messages = open_messages.filter(order__marketplace_id=marketplace_id)
    risky_sets = [
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
    ids: set[int] = set()
    for rows in risky_sets:
        ids |= set(rows.values_list("id", flat=True)[:limit])
    ids |= set(open_messages.values_list("order_id", flat=True)[:limit])
    orders = Order.objects.filter(id__in=ids).select_related("marketplace")
    threads: dict[int, list[BuyerThreadMessage]] = defaultdict(list)
    for row in BuyerMessage.objects.filter(order_id__in=ids):
        threads[row.order_id].append(_thread(row))
    result = []
    windows: dict[int, tuple[timedelta, timedelta]] = {}
    for order in orders:
        if order.marketplace_id not in windows:
            policy = policy_for(order.marketplace_id)
            windows[order.marketplace_id] = (
                timedelta(hours=policy.metric("contact_response_rate").response_hours),
                timedelta(hours=policy.defects.scan_grace_hours),
            )
        response, scan_grace = windows[order.marketplace_id]
        risks = order_risks(_facts(order), threads[order.id], now, response, scan_grace)
        if risks:
            result.append(AtRiskOrder(order, risks))
    far = now + timedelta(days=3650)
    result.sort(key=lambda r: min((x.due or far) for x in r.risks))
    return result[:limit]
