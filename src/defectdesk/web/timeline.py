"""Ledger events and defects in words a merchant reads (translatable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from defectdesk.ledger.words import code_label


def _money(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, Mapping):
        return f"{value.get('amount', '')} {value.get('currency', '')}".strip()
    return str(value) if value not in (None, "") else ""


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
