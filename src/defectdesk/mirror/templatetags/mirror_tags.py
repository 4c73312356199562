"""The account health page's note for an external marketplace (mirror mode)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Min

from defectdesk.ledger.models import Order
from defectdesk.mirror.models import MirrorAccount

register = template.Library()


@register.inclusion_tag("mirror/health_note.html")
def mirror_health_note(viewer: Any) -> dict[str, Any]:
    """Who decides, where the history starts, and the orders left out for facts Amazon hides."""
    market, seller = viewer.marketplace, viewer.seller
    if market is None or seller is None or not market.external:
        return {"note": None}
    orders = Order.objects.filter(seller_id=seller.pk, marketplace_id=market.pk)
    account = MirrorAccount.objects.filter(seller_id=seller.pk, marketplace_id=market.pk).first()
    first = orders.aggregate(first=Min("order_date"))["first"]
    return {
        "note": {
            "decided_by": market.decided_by or market.name,
            "history_from": first,
            "first_import": account.first_import_at.date()
            if account and account.first_import_at
            else first,
            "account_id": account.pk if account else None,
            "unknown_ship": orders.filter(
                fulfillment="merchant", ship_by__isnull=True, shipped_at__isnull=True
            ).count(),
            "unknown_cancel": orders.filter(
                cancelled_at__isnull=False, cancelled_by__isnull=True
            ).count(),
        }
    }
