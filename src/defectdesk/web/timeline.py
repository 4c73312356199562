"""Ledger events and defects in words a merchant reads (translatable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
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


def _money(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, Mapping):
        return f"{value.get('amount', '')} {value.get('currency', '')}".strip()
    return str(value) if value not in (None, "") else ""


def event_title(kind: str) -> str:
    return str(EVENT_TITLES.get(kind, kind))


def event_detail(kind: str, data: Mapping[str, Any]) -> str:
    """One line of what the event says (plain text; the template escapes it)."""
    parts: list[str] = []
    if kind == "order.placed":
        parts.append(_("Buyer %(buyer)s") % {"buyer": data.get("buyer") or "—"})
        total = _money(data, "total")
        if total:
            parts.append(total)
        skus = [str(i.get("sku")) for i in data.get("items") or [] if isinstance(i, Mapping)]
        if skus:
            parts.append(", ".join(skus))
    elif kind == "order.shipped":
        parts += [str(data.get(k)) for k in ("carrier", "service") if data.get(k)]
        tracking = data.get("tracking_number")
        parts.append(
            _("tracking %(number)s") % {"number": tracking} if tracking else _("no tracking number")
        )
    elif kind == "shipment.scanned":
        if data.get("status"):
            parts.append(code_label(data["status"]))
        if data.get("location"):
            parts.append(str(data["location"]))
    elif kind == "order.delivered":
        if data.get("signature"):
            parts.append(_("signed for"))
    elif kind == "order.cancelled":
        parts.append(_("by %(who)s") % {"who": data.get("requested_by") or "—"})
        if data.get("reason"):
            parts.append(str(data["reason"]))
    elif kind == "refund.issued":
        parts.append(_money(data, "amount"))
        if data.get("reason"):
            parts.append(str(data["reason"]))
    elif kind == "feedback.posted":
        parts.append(_("%(rating)s of 5 stars") % {"rating": data.get("rating")})
        if data.get("comment"):
            parts.append(f"“{data['comment']}”")
    elif kind in (
        "claim.filed",
        "chargeback.filed",
        "return.requested",
        "return.received",
        "feedback.removed",
    ):
        if data.get("reason"):
            parts.append(code_label(data["reason"]))
        amount = _money(data, "amount")
        if amount:
            parts.append(amount)
    elif kind in ("claim.decided", "chargeback.decided"):
        parts.append(code_label(data.get("outcome")))
    elif kind in ("message.received", "message.sent"):
        parts.append(str(data.get("body") or ""))
    return " · ".join(p for p in parts if p)
