"""Buyer threads and at-risk rules over an order's state (pure: no ORM)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from defectdesk.ledger.fold import Message, OrderState

# The topics a buyer message may mention, in words.
TOPICS = {
    "claim": gettext_lazy("a claim"),
    "refund": gettext_lazy("a refund"),
    "not_received": gettext_lazy("non-delivery"),
}

_MENTIONS = {
    "claim": re.compile(r"\b(a-?to-?z|claim|guarantee|dispute|chargeback)\b", re.I),
    "refund": re.compile(r"\b(refund|money back|reimburse)", re.I),
    "not_received": re.compile(
        r"(never (arrived|came|received)|not (arrived|received)|hasn'?t arrived|where is my|"
        r"didn'?t (arrive|receive|get)|lost (package|parcel))",
        re.I,
    ),
}


def answer_state(
    received_at: datetime,
    answered_at: datetime | None,
    no_response_needed_at: datetime | None,
    now: datetime,
    window: timedelta,
) -> tuple[str, datetime]:
    """Where a buyer message stands and when its answer is due (`window`, the policy's response
    time): `none_needed`, `answered`, `late` (answered after it), `open` or `overdue`."""
    due = received_at + window
    if no_response_needed_at is not None:
        return "none_needed", due
    if answered_at is not None:
        return ("answered" if answered_at <= due else "late"), due
    return ("open" if now <= due else "overdue"), due


def _hours(window: timedelta) -> str:
    hours = int(window.total_seconds() // 3600)
    return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}


def message_mentions(body: str | None) -> list[str]:
    """Which warning topics (claim, refund, non-delivery) a buyer message mentions."""
    if not body:
        return []
    return [topic for topic, pattern in _MENTIONS.items() if pattern.search(body)]


@dataclass(frozen=True, slots=True)
class BuyerThreadMessage:
    message_id: str
    received_at: datetime
    body: str
    answered_at: datetime | None
    no_response_needed_at: datetime | None
    mentions: tuple[str, ...]


def buyer_messages(state: OrderState) -> list[BuyerThreadMessage]:
    """Each buyer message with the first seller message after it (the order is the thread)."""
    sent = sorted(
        m.at for m in state.messages.values() if m.direction == "sent" and m.at is not None
    )
    out = []
    received: list[Message] = sorted(
        (m for m in state.messages.values() if m.direction == "received" and m.at is not None),
        key=lambda m: (m.at, m.message_id),
    )
    for message in received:
        assert message.at is not None
        answer = next((at for at in sent if at > message.at), None)
        out.append(
            BuyerThreadMessage(
                message.message_id,
                message.at,
                message.body or "",
                answer,
                message.no_response_needed_at,
                tuple(message_mentions(message.body)),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class AtRisk:
    reason: str
    detail: str
    action: str
    due: datetime | None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """The facts of an order that the at-risk rules read (from the orders projection)."""

    fulfillment: str | None
    ship_by: datetime | None
    deliver_by: datetime | None
    shipped_at: datetime | None
    tracking_number: str | None
    first_scan_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    return_received_at: datetime | None
    first_refund_at: datetime | None


def order_risks(
    order: OrderFacts,
    messages: list[BuyerThreadMessage],
    now: datetime,
    window: timedelta,
    scan_grace: timedelta,
) -> list[AtRisk]:
    """Why an order may become a defect soon, and what prevents it (DESIGN §7).

    `window` is the policy's response time to a buyer message, `scan_grace` its time from
    shipping to the first carrier scan."""
    risks: list[AtRisk] = []
    live = order.cancelled_at is None
    merchant = order.fulfillment == "merchant"
    if (
        live
        and merchant
        and order.shipped_at is None
        and order.ship_by is not None
        and now <= order.ship_by <= now + timedelta(hours=24)
    ):
        risks.append(
            AtRisk(
                "ship_by_soon",
                _("Not shipped; the ship-by date is within 24 hours."),
                _("Ship the order and confirm it with a tracking number."),
                order.ship_by,
            )
        )
    if live and merchant and order.shipped_at is not None and order.first_scan_at is None:
        due = order.shipped_at + scan_grace
        detail = (
            _("Shipped without a tracking number.")
            if not order.tracking_number
            else _("Shipped, but the carrier has not scanned the package.")
        )
        risks.append(
            AtRisk(
                "no_carrier_scan",
                detail,
                _("Check the tracking number and hand the package to the carrier."),
                due,
            )
        )
    if (
        live
        and order.delivered_at is None
        and order.deliver_by is not None
        and order.deliver_by < now
    ):
        risks.append(
            AtRisk(
                "delivery_overdue",
                _("The deliver-by date passed without delivery."),
                _("Contact the carrier and tell the buyer where the package is."),
                None,
            )
        )
    if (
        order.return_received_at is not None
        and order.first_refund_at is None
        and now - order.return_received_at > timedelta(days=2)
    ):
        risks.append(
            AtRisk(
                "return_not_refunded",
                _("The return arrived more than 2 days ago and no refund was issued."),
                _("Issue the refund."),
                None,
            )
        )
    risks.extend(_message_risks(messages, now, window))
    return risks


def _message_risks(
    messages: list[BuyerThreadMessage], now: datetime, window: timedelta
) -> list[AtRisk]:
    """Buyer messages waiting too long for an answer, or mentioning a claim or a refund."""
    risks: list[AtRisk] = []
    for message in messages:
        if message.answered_at is not None or message.no_response_needed_at is not None:
            continue
        waited = now - message.received_at
        due = message.received_at + window
        if waited >= window / 2:
            risks.append(
                AtRisk(
                    "message_unanswered",
                    _("A buyer message has waited %(n)s hours.")
                    % {"n": int(waited.total_seconds() // 3600)},
                    _("Reply to the buyer within %(hours)s of the message.")
                    % {"hours": _hours(window)},
                    due,
                )
            )
        if message.mentions:
            risks.append(
                AtRisk(
                    "message_warning",
                    _("A buyer message mentions %(topics)s.")
                    % {"topics": _(", ").join(str(TOPICS.get(m, m)) for m in message.mentions)},
                    _("Reply now and resolve it before the buyer files a claim."),
                    due,
                )
            )
    return risks
