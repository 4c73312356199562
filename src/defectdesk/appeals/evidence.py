"""System evidence frozen from the ledger, the automatic rules, and suggested explanations.

Pure: these functions take an order's folded state and events and return plain data; they
never touch the database, so the rules are tested in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from defectdesk.appeals.reasons import reason_lookup
from defectdesk.core.language import in_sentence
from defectdesk.core.timeutil import iso_text
from defectdesk.ledger.fold import Dispute, LedgerEvent, OrderState
from defectdesk.ledger.words import code_label


def _summary(event: LedgerEvent) -> str:
    """One ledger event in words, in the active language."""
    data = event.data
    kind = event.type
    reason = code_label(data.get("reason")) if data.get("reason") else _("no reason given")
    if kind == "order.placed":
        total = data.get("total") or {}
        return (
            _("Order placed (fulfilled %(channel)s, %(amount)s %(currency)s)")
            % {
                "channel": code_label(data.get("fulfillment")),
                "amount": total.get("amount", "?"),
                "currency": total.get("currency", ""),
            }
        ).replace(" )", ")")
    if kind == "order.shipped":
        return _("Shipped with %(carrier)s, tracking %(number)s") % {
            "carrier": data.get("carrier") or _("an unknown carrier"),
            "number": data.get("tracking_number") or _("none"),
        }
    if kind == "shipment.scanned":
        status = code_label(data.get("status") or "scan")
        if data.get("location"):
            return _("Carrier scan: %(status)s at %(place)s") % {
                "status": status,
                "place": data["location"],
            }
        return _("Carrier scan: %(status)s") % {"status": status}
    if kind == "order.delivered":
        return _("Delivered with signature") if data.get("signature") else _("Delivered")
    if kind == "order.cancelled":
        return _("Cancelled by the %(who)s: %(reason)s") % {
            "who": code_label(data.get("requested_by")),
            "reason": reason,
        }
    if kind == "return.requested":
        return _("Return requested: %(reason)s") % {"reason": reason}
    if kind == "return.received":
        return _("Return received: %(reason)s") % {"reason": reason}
    if kind == "refund.issued":
        by = data.get("initiated_by")
        if by:
            return _("Refund of %(amount)s issued by the %(who)s") % {
                "amount": data.get("amount"),
                "who": code_label(by),
            }
        return _("Refund of %(amount)s issued") % {"amount": data.get("amount")}
    if kind == "feedback.posted":
        rating = _("Feedback %(rating)s/5") % {"rating": data.get("rating")}
        return f"{rating}: {data['comment']}" if data.get("comment") else rating
    if kind == "feedback.removed":
        removed = _("Feedback removed")
        return f"{removed}: {data['reason']}" if data.get("reason") else removed
    if kind == "claim.filed":
        return _("A-to-z Guarantee claim %(id)s filed: %(reason)s") % {
            "id": data.get("claim_id"),
            "reason": code_label(data.get("reason")),
        }
    if kind == "claim.decided":
        return _("A-to-z Guarantee claim %(id)s decided: %(outcome)s") % {
            "id": data.get("claim_id"),
            "outcome": code_label(data.get("outcome")),
        }
    if kind == "chargeback.filed":
        return _("Chargeback %(id)s filed: %(reason)s") % {
            "id": data.get("chargeback_id"),
            "reason": code_label(data.get("reason")),
        }
    if kind == "chargeback.decided":
        return _("Chargeback %(id)s decided: %(outcome)s") % {
            "id": data.get("chargeback_id"),
            "outcome": code_label(data.get("outcome")),
        }
    if kind == "message.received":
        return _("Message from the buyer")
    if kind == "message.sent":
        return _("Message to the buyer")
    if kind == "message.no_response_needed":
        return _("Message marked as needing no response")
    return kind


def _dispute_facts(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.dispute_id,
        "filed_at": iso_text(dispute.filed_at),
        "reason": dispute.reason,
        "amount": str(dispute.amount) if dispute.amount is not None else None,
        "decisions": [{"at": iso_text(d.at), "outcome": d.outcome} for d in dispute.decisions],
    }


def evidence_build(state: OrderState, events: Sequence[LedgerEvent]) -> dict[str, Any]:
    """The ledger's facts about an order, as frozen next to the merchant's files."""
    accepted = set(state.event_ids)
    timeline = [
        {"at": iso_text(e.occurred_at), "type": e.type, "summary": _summary(e), "event": e.event_id}
        for e in sorted(events, key=lambda e: e.sort_key)
        if e.event_id in accepted
    ]
    messages = sorted(
        (m for m in state.messages.values() if m.at is not None),
        key=lambda m: (m.at, m.message_id),  # type: ignore[arg-type,return-value]
    )
    return {
        "order": {
            "marketplace": state.marketplace,
            "order": state.order_ref,
            "placed_at": iso_text(state.placed_at),
            "fulfillment": state.fulfillment,
            "total": {"amount": str(state.total_amount), "currency": state.currency}
            if state.total_amount is not None
            else None,
            "ship_by": iso_text(state.ship_by),
            "deliver_by": iso_text(state.deliver_by),
            "items": [
                {"sku": i.get("sku"), "title": i.get("title"), "quantity": i.get("quantity")}
                for i in state.items
            ],
        },
        "timeline": timeline,
        "shipping": [
            {
                "at": iso_text(s.at),
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "service": s.service,
            }
            for s in state.shipments
        ],
        "scans": [
            {"at": iso_text(s.at), "status": s.status, "location": s.location} for s in state.scans
        ],
        "delivery": {
            "at": iso_text(state.delivered_at),
            "signature": state.delivery_signature,
            "proof_url": state.proof_url,
        }
        if state.delivered_at
        else None,
        "refunds": [
            {
                "at": iso_text(r.at),
                "amount": str(r.amount),
                "reason": r.reason,
                "initiated_by": r.initiated_by,
            }
            for r in state.refunds
        ],
        "claims": [_dispute_facts(d) for d in state.claims.values()],
        "chargebacks": [_dispute_facts(d) for d in state.chargebacks.values()],
        "messages": [
            {
                "at": iso_text(m.at),
                "from": "buyer" if m.direction == "received" else "seller",
                "body": m.body or "",
            }
            for m in messages
        ],
    }


@dataclass(frozen=True, slots=True)
class RuleFinding:
    """What one automatic rule found: whether the ledger proves the reason, and from what."""

    rule: str
    proved: bool
    facts: dict[str, Any] = field(default_factory=dict)


def _dispute(state: OrderState, kind: str, source_key: str) -> Dispute | None:
    book = state.claims if kind == "a_to_z_claim" else state.chargebacks
    if source_key in book:
        return book[source_key]
    filed = [d for d in book.values() if d.filed_at is not None]
    return min(filed, key=lambda d: d.filed_at) if filed else None  # type: ignore[arg-type,return-value]


def _fulfilled_by_marketplace(state: OrderState, kind: str, key: str) -> RuleFinding:
    return RuleFinding(
        "fulfilled_by_marketplace",
        state.fulfillment == "marketplace",
        {
            "order": state.order_ref,
            "fulfillment": state.fulfillment,
            "event": state.placed_event_id,
        },
    )


def _refund_before_claim(state: OrderState, kind: str, key: str) -> RuleFinding:
    dispute = _dispute(state, kind, key)
    filed = dispute.filed_at if dispute else None
    earlier = [r for r in state.refunds if filed is not None and r.at < filed]
    facts: dict[str, Any] = {
        "dispute": dispute.dispute_id if dispute else None,
        "filed_at": iso_text(filed),
    }
    if earlier:
        first = earlier[0]
        facts.update(
            refund_at=iso_text(first.at),
            refund_amount=str(first.amount),
            refund_event=first.event_id,
        )
    return RuleFinding("refund_before_claim", bool(earlier), facts)


def _delivered_before_claim(state: OrderState, kind: str, key: str) -> RuleFinding:
    dispute = _dispute(state, kind, key)
    filed = dispute.filed_at if dispute else None
    delivered = state.delivered_at
    proved = (
        dispute is not None
        and dispute.reason == "not_received"
        and filed is not None
        and delivered is not None
        and delivered < filed
    )
    return RuleFinding(
        "delivered_before_claim",
        proved,
        {
            "dispute": dispute.dispute_id if dispute else None,
            "dispute_reason": dispute.reason if dispute else None,
            "filed_at": iso_text(filed),
            "delivered_at": iso_text(delivered),
            "event": state.delivered_event_id,
        },
    )


def _scan_before_ship_by(state: OrderState, kind: str, key: str) -> RuleFinding:
    first = state.scans[0] if state.scans else None
    # Late means strictly after ship-by, so a scan at the deadline itself is on time.
    proved = first is not None and state.ship_by is not None and first.at <= state.ship_by
    return RuleFinding(
        "scan_before_ship_by",
        proved,
        {
            "ship_by": iso_text(state.ship_by),
            "first_scan_at": iso_text(first.at) if first else None,
            "event": first.event_id if first else None,
        },
    )


RULES_BY_REASON: dict[tuple[str, str], Any] = {
    ("negative_feedback", "fulfilled_by_marketplace"): _fulfilled_by_marketplace,
    ("a_to_z_claim", "refunded_before_claim"): _refund_before_claim,
    ("chargeback", "refunded_before_chargeback"): _refund_before_claim,
    ("a_to_z_claim", "delivered_per_tracking"): _delivered_before_claim,
    ("chargeback", "proof_of_delivery"): _delivered_before_claim,
    ("late_shipment", "carrier_scan_before_ship_by"): _scan_before_ship_by,
}


def rules_evaluate(state: OrderState, kind: str, reason: str, source_key: str) -> list[RuleFinding]:
    """Run the automatic rule that can prove this reason for this kind (none for the rest)."""
    rule = RULES_BY_REASON.get((kind, reason))
    return [rule(state, kind, source_key)] if rule is not None else []


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else _("an unknown time")


def explanation_suggest(state: OrderState, kind: str, reason: str, source_key: str) -> str:
    """A plain-text explanation built from the ledger's facts for the chosen reason, in the
    active language."""
    order = state.order_ref
    ship = state.first_shipment
    dispute = _dispute(state, kind, source_key) if kind in ("a_to_z_claim", "chargeback") else None
    what = _("A-to-z claim") if kind == "a_to_z_claim" else _("chargeback")
    if reason == "fulfilled_by_marketplace":
        return _(
            "Order %(order)s was fulfilled by the marketplace, which handled its storage, "
            "packing, shipping and delivery. The negative feedback concerns fulfilment that "
            "was not under our control, so it should not count against our account."
        ) % {"order": order}
    if reason in ("refunded_before_claim", "refunded_before_chargeback") and state.refunds:
        refund = state.refunds[0]
        filed = _when(dispute.filed_at) if dispute else _("a later date")
        amount = f"{refund.amount} {state.currency or ''}".strip()
        return _(
            "We refunded %(amount)s for order %(order)s on %(refunded)s, before the %(what)s "
            "was filed on %(filed)s. The buyer had already been made whole when the claim was "
            "opened."
        ) % {
            "amount": amount,
            "order": order,
            "refunded": _when(refund.at),
            "what": what,
            "filed": filed,
        }
    if reason in ("delivered_per_tracking", "proof_of_delivery") and state.delivered_at:
        carrier = ship.carrier if ship and ship.carrier else _("the carrier")
        tracking = ship.tracking_number if ship and ship.tracking_number else _("on record")
        text = _(
            "Order %(order)s was shipped with %(carrier)s (tracking %(tracking)s) and delivered "
            "on %(delivered)s, before the %(what)s was filed."
        ) % {
            "order": order,
            "carrier": carrier,
            "tracking": tracking,
            "delivered": _when(state.delivered_at),
            "what": what,
        }
        if state.delivery_signature:
            text += " " + _("The buyer signed for it.")
        return text + " " + _("The tracking history is attached as system evidence.")
    if reason == "carrier_scan_before_ship_by" and state.scans:
        return _(
            "The carrier scanned order %(order)s on %(scanned)s, by the ship-by date of "
            "%(ship_by)s. The package was handed over on time; the shipment confirmation was "
            "recorded later."
        ) % {"order": order, "scanned": _when(state.scans[0].at), "ship_by": _when(state.ship_by)}
    if reason == "obscene_or_abusive":
        return _(
            "The feedback on order %(order)s contains obscene or abusive language, which the "
            "feedback policy does not allow. We ask that it be removed."
        ) % {"order": order}
    if reason == "personal_information":
        return _(
            "The feedback on order %(order)s contains personal information, which the "
            "feedback policy does not allow. We ask that it be removed."
        ) % {"order": order}
    if reason == "product_review_only":
        return _(
            "The feedback on order %(order)s is a review of the product, not of our shipping "
            "or service, and belongs in the product reviews instead."
        ) % {"order": order}
    what_defect = _kind_label(kind)
    chosen = reason_lookup(kind, reason)
    because = (
        str(chosen.label) + _(".")
        if chosen is not None and chosen.code != "other"
        else _("We explain below what happened and attach what shows it.")
    )
    return (
        _("We believe the %(defect)s on order %(order)s should not count against our account.")
        % {"defect": what_defect, "order": order}
        + " "
        + because
    )


def _kind_label(kind: str) -> str:
    from defectdesk.defects.models import Defect

    return in_sentence(Defect.Kind(kind).label) if kind in Defect.Kind.values else kind
