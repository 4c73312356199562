"""Ledger event types and codes (outcomes, reasons, scan statuses) in words (translatable)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

EVENT_TITLES: dict[str, Any] = {
    "order.placed": gettext_lazy("Order placed"),
    "order.shipped": gettext_lazy("Shipped"),
    "shipment.scanned": gettext_lazy("Carrier scan"),
    "order.delivered": gettext_lazy("Delivered"),
    "order.cancelled": gettext_lazy("Cancelled"),
    "return.requested": gettext_lazy("Return requested"),
    "return.received": gettext_lazy("Return received"),
    "refund.issued": gettext_lazy("Refund issued"),
    "feedback.posted": gettext_lazy("Feedback posted"),
    "feedback.removed": gettext_lazy("Feedback removed"),
    "claim.filed": gettext_lazy("A-to-z Guarantee claim filed"),
    "claim.decided": gettext_lazy("A-to-z Guarantee claim decided"),
    "chargeback.filed": gettext_lazy("Chargeback filed"),
    "chargeback.decided": gettext_lazy("Chargeback decided"),
    "message.received": gettext_lazy("Buyer message"),
    "message.sent": gettext_lazy("Your reply"),
    "message.no_response_needed": gettext_lazy("Marked: no response needed"),
}

CODE_LABELS: dict[str, Any] = {
    # dispute outcomes
    "denied": gettext_lazy("denied"),
    "withdrawn": gettext_lazy("withdrawn"),
    "refunded_by_seller": gettext_lazy("refunded by the seller"),
    "granted_seller_funded": gettext_lazy("granted, paid by the seller"),
    "granted_marketplace_funded": gettext_lazy("granted, paid by the marketplace"),
    "won": gettext_lazy("won by the seller"),
    "lost": gettext_lazy("lost by the seller"),
    "accepted": gettext_lazy("accepted"),
    # dispute, return and refund reasons
    "not_received": gettext_lazy("not received"),
    "not_as_described": gettext_lazy("not as described"),
    "return_not_refunded": gettext_lazy("return not refunded"),
    "duplicate": gettext_lazy("duplicate charge"),
    "fraud": gettext_lazy("fraud"),
    "unrecognized": gettext_lazy("charge not recognised"),
    "other": gettext_lazy("other"),
    # scans, fulfilment and who did it
    "in_transit": gettext_lazy("in transit"),
    "out_for_delivery": gettext_lazy("out for delivery"),
    "exception": gettext_lazy("delivery exception"),
    "merchant": gettext_lazy("by the seller"),
    "marketplace": gettext_lazy("marketplace"),
    "buyer": gettext_lazy("buyer"),
    "seller": gettext_lazy("seller"),
}


def code_label(code: Any) -> str:
    """A code from the ledger (outcome, reason, scan status) in words; unknown codes unchanged."""
    if code in (None, ""):
        return "—"
    found = CODE_LABELS.get(str(code))
    return str(found) if found is not None else str(code).replace("_", " ")


def event_title(kind: str) -> str:
    return str(EVENT_TITLES.get(kind, kind))
