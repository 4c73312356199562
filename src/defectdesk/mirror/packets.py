"""Requests in the shapes of Amazon's forms, drafted from the ledger (pure: no ORM).

Amazon's A-to-z response is one plain-text box without attachments (the evidence goes to the
buyer through Buyer-Seller Messaging and is cited in the text); a chargeback representment is
a handful of fields; a feedback removal is one request per feedback for a few reasons only;
a Plan of Action answers root cause, actions taken and preventive measures, per cause.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from defectdesk.ledger.fold import OrderState
from defectdesk.mirror.profile import REMOVAL_CRITERIA, AmazonRules

PHONE = re.compile(r"(?:\+?\d[\d ().-]{7,}\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Words that make a comment about the seller's service, not only the product.
SERVICE_WORDS = re.compile(
    r"\b(ship\w*|deliver\w*|arriv\w*|late|package|packag\w*|seller|refund\w*|return\w*|"
    r"service|never came|tracking|courier|carrier|respon\w*|contact\w*)\b",
    re.IGNORECASE,
)
ABUSIVE_WORDS = re.compile(
    r"\b(fuck\w*|shit\w*|bastard\w*|bitch\w*|asshole\w*|idiot\w*|moron\w*|scum\w*|crook\w*|"
    r"thie(f|ves)|scammer\w*|damn\w*)\b",
    re.IGNORECASE,
)


class Refusal(Exception):
    """A request that Amazon's rules do not allow; the message says why."""


@dataclass
class Draft:
    body: str
    fields: dict[str, Any] = field(default_factory=dict)
    due_at: datetime | None = None


def _day(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d") if moment else "-"


def _fit(text: str, limit: int) -> str:
    """The text cut to Amazon's box, at a line end where possible, saying so."""
    if len(text) <= limit:
        return text
    marker = "\n[...]"
    cut = text[: limit - len(marker)]
    end = cut.rfind("\n")
    return (cut[:end] if end > limit // 2 else cut) + marker


# -- feedback removal ----------------------------------------------------------------------


def feedback_removal_check(
    *,
    criterion: str,
    comment: str,
    fulfillment: str | None,
    posted_at: datetime,
    now: datetime,
    rules: AmazonRules,
) -> None:
    """Refuse (saying why) a removal request Amazon would not grant: too old, or a criterion
    the feedback does not meet."""
    age = (now - posted_at).days
    if age > rules.feedback_removal_days:
        raise Refusal(
            _(
                "Amazon removes feedback only within %(limit)d days of it; this one is %(age)d "
                "days old. No request can be sent."
            )
            % {"limit": rules.feedback_removal_days, "age": age}
        )
    if criterion not in REMOVAL_CRITERIA:
        raise Refusal(
            _(
                "Choose the reason Amazon removes feedback for: obscene or abusive language, "
                "personal information, a product review only, or fulfilled by Amazon. Amazon "
                "refuses requests without one."
            )
        )
    text = comment or ""
    if criterion == "personal_information" and not (EMAIL.search(text) or PHONE.search(text)):
        raise Refusal(
            _(
                "The comment shows no e-mail address or telephone number, so Amazon will not "
                "remove it for personal information. Choose another reason only if it fits."
            )
        )
    if criterion == "obscene_or_abusive" and not ABUSIVE_WORDS.search(text):
        raise Refusal(
            _(
                "The comment has no obscene or abusive words; a harsh but fair complaint is not "
                "abusive, and Amazon refuses such requests."
            )
        )
    if criterion == "product_review_only":
        found = SERVICE_WORDS.search(text)
        if found or not text.strip():
            raise Refusal(
                _(
                    "The comment speaks of the seller's service (%(word)r), so it is not a "
                    "product review only; Amazon keeps such feedback."
                )
                % {"word": found.group(0) if found else _("no comment")}
            )
    if criterion == "fulfilled_by_amazon" and fulfillment != "marketplace":
        raise Refusal(
            _(
                "The order was fulfilled by you, not by Amazon, so Amazon does not take "
                "responsibility for this feedback."
            )
        )


def feedback_removal_draft(
    *,
    order_ref: str,
    criterion: str,
    comment: str,
    rating: int,
    posted_at: datetime,
    tz: ZoneInfo,
    rules: AmazonRules,
) -> Draft:
    """The text for Seller Central's feedback removal request (one feedback)."""
    quote = (comment or "").strip().replace("\n", " ")
    if len(quote) > 300:
        quote = quote[:297] + "..."
    body = "\n".join(
        [
            _("Feedback removal request for order %(order)s") % {"order": order_ref},
            _('Feedback of %(day)s, %(rating)d star(s): "%(quote)s"')
            % {"day": _day(posted_at, tz), "rating": rating, "quote": quote},
            "",
            REMOVAL_CRITERIA[criterion],
            _("We ask that this feedback be removed under Amazon's feedback guidelines."),
        ]
    )
    return Draft(
        _fit(body, rules.feedback_removal_chars),
        {"criterion": criterion},
        posted_at + timedelta(days=rules.feedback_removal_days),
    )


# -- A-to-z claim response -----------------------------------------------------------------

CHECKLISTS: dict[str, tuple[str, ...]] = {
    "not_received": (
        "Proof of shipment: the carrier's receipt or label with the ship date",
        "The carrier's tracking page showing delivery (date, place, signature if any)",
        "Your messages with the buyer about the delivery",
    ),
    "not_as_described": (
        "The product page as the buyer saw it (screenshot)",
        "Photos of the item as shipped",
        "Your offer of a return or refund to the buyer",
    ),
    "return_not_refunded": (
        "The return's tracking showing when it reached you",
        "The refund receipt with its date and amount",
    ),
    "other": ("Your messages with the buyer", "Any receipt or record that answers the claim"),
}


def _facts(state: OrderState, tz: ZoneInfo) -> list[str]:
    facts = [
        _("Order placed on %(day)s (%(who)s).")
        % {
            "day": _day(state.placed_at, tz),
            "who": _("fulfilled by Amazon")
            if state.fulfillment == "marketplace"
            else _("fulfilled by the seller"),
        }
    ]
    ship = state.first_shipment
    if ship is not None:
        facts.append(
            _("Shipped on %(day)s with %(carrier)s, tracking %(tracking)s.")
            % {
                "day": _day(ship.at, tz),
                "carrier": ship.carrier or "-",
                "tracking": ship.tracking_number or "-",
            }
        )
    else:
        facts.append(_("[Add the ship date, the carrier and the tracking id.]"))
    if state.delivered_at is not None:
        facts.append(_("Delivered on %(day)s.") % {"day": _day(state.delivered_at, tz)})
    for refund in state.refunds:
        facts.append(
            _("Refund of %(amount)s %(currency)s issued on %(day)s.")
            % {
                "amount": refund.amount,
                "currency": state.currency or "",
                "day": _day(refund.at, tz),
            }
        )
    if state.cancelled_at is not None:
        facts.append(_("Order cancelled on %(day)s.") % {"day": _day(state.cancelled_at, tz)})
    return facts


def a_to_z_response_draft(
    *,
    state: OrderState,
    reason: str,
    filed_at: datetime | None,
    respond_by: datetime | None,
    tz: ZoneInfo,
    rules: AmazonRules,
) -> Draft:
    """The plain text for Amazon's one response box, citing the evidence, and the checklist of
    files to send the buyer through Buyer-Seller Messaging (the box takes no attachments)."""
    checklist = list(CHECKLISTS.get(reason, CHECKLISTS["other"]))
    lines = [
        _("Response to the A-to-z Guarantee claim on order %(order)s.")
        % {"order": state.order_ref},
        "",
        _("Facts:"),
        *[f"- {fact}" for fact in _facts(state, tz)],
        "",
        _("Evidence sent to the buyer through Buyer-Seller Messaging on [date]:"),
        *[f"{n}. {item}" for n, item in enumerate(checklist, start=1)],
        "",
        _(
            "Given these facts, we ask Amazon to decide this claim in our favour. We remain "
            "available through Buyer-Seller Messaging."
        ),
    ]
    due = respond_by or (filed_at + rules.a_to_z_response if filed_at else None)
    return Draft(
        _fit("\n".join(lines), rules.a_to_z_box_chars),
        {"checklist": checklist, "reason": reason},
        due,
    )


# -- chargeback representment --------------------------------------------------------------


def chargeback_draft(
    *,
    state: OrderState,
    filed_at: datetime | None,
    respond_by: datetime | None,
    tz: ZoneInfo,
    rules: AmazonRules,
) -> Draft:
    """The fields Amazon's chargeback representment asks for, filled where the ledger knows."""
    ship = state.first_shipment
    comments = " ".join(_facts(state, tz))
    fields = {
        "ship_date": _day(ship.at, tz) if ship else "",
        "carrier": (ship.carrier or "") if ship else "",
        "shipping_speed": (ship.service or "") if ship else "",
        "tracking_id": (ship.tracking_number or "") if ship else "",
        "comments": _fit(comments, rules.chargeback_comment_chars),
    }
    body = "\n".join(
        [
            _("Chargeback representment for order %(order)s") % {"order": state.order_ref},
            f"{_('Ship date')}: {fields['ship_date'] or _('[add]')}",
            f"{_('Carrier')}: {fields['carrier'] or _('[add]')}",
            f"{_('Shipping speed')}: {fields['shipping_speed'] or _('[add]')}",
            f"{_('Tracking id')}: {fields['tracking_id'] or _('[add]')}",
            f"{_('Comments')}: {fields['comments']}",
        ]
    )
    due = respond_by or (
        filed_at + timedelta(days=rules.chargeback_response_days) if filed_at else None
    )
    return Draft(body, fields, due)


# -- Plan of Action ------------------------------------------------------------------------

DELIVERY = re.compile(r"\b(late|never|arriv\w*|deliver\w*|lost|tracking|ship\w*)\b", re.I)
ITEM = re.compile(
    r"\b(broken|crack\w*|quality|damag\w*|wrong|fake|counterfeit|describ\w*|defect\w*|used)\b", re.I
)


@dataclass(frozen=True, slots=True)
class DefectLine:
    """One defect as the Plan of Action builder reads it."""

    kind: str
    order_ref: str
    reason: str = ""
    comment: str = ""


CAUSES: dict[str, tuple[str, str, str]] = {
    "delivery": (
        "Orders arrived late or not at all",
        "We reviewed each order with the carrier's tracking and refunded the buyers who had "
        "not received their items.",
        "We ship with tracked services only, hand parcels to the carrier on the day of the "
        "order, and check every morning for parcels without a carrier scan.",
    ),
    "item": (
        "Items did not match their description or arrived damaged",
        "We inspected the remaining stock, corrected the product pages, and offered each buyer "
        "a return or refund.",
        "We check each item against its listing before packing and use protective packaging "
        "for fragile goods.",
    ),
    "returns": (
        "Returns were not refunded in time",
        "We refunded every return that had reached us.",
        "Returns are checked and refunded within two business days of arrival.",
    ),
    "payments": (
        "Buyers disputed their payments",
        "We answered each dispute with proof of shipment and delivery.",
        "We describe the charge clearly and answer buyer questions within 24 hours.",
    ),
    "cancellations": (
        "Orders were cancelled before shipment",
        "We corrected the stock levels that let items sell out of stock.",
        "Stock is synchronised every hour and listings pause at a safety level.",
    ),
    "other": (
        "Other causes",
        "We contacted each buyer to resolve their issue.",
        "We review buyer feedback every week and act on recurring issues.",
    ),
}


def root_cause(line: DefectLine) -> str:
    """The cause a defect most likely has, from its kind, reason and comment."""
    if line.kind == "chargeback":
        return "payments"
    if line.kind == "cancellation":
        return "cancellations"
    if line.kind in ("late_shipment", "invalid_tracking", "late_delivery"):
        return "delivery"
    if line.reason == "not_received":
        return "delivery"
    if line.reason == "not_as_described":
        return "item"
    if line.reason == "return_not_refunded" or line.kind == "refund":
        return "returns"
    if ITEM.search(line.comment):
        return "item"
    if DELIVERY.search(line.comment):
        return "delivery"
    return "other"


def plan_of_action_draft(lines: Sequence[DefectLine], rules: AmazonRules) -> Draft:
    """A Plan of Action: per root cause, its three sections citing the order ids."""
    groups: dict[str, list[str]] = {}
    for line in lines:
        groups.setdefault(root_cause(line), []).append(line.order_ref)
    parts = [_("Plan of Action"), ""]
    fields: dict[str, Any] = {"causes": []}
    for n, (cause, orders) in enumerate(
        sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])), start=1
    ):
        title, actions, prevention = CAUSES[cause]
        cited = sorted(set(orders))
        shown = ", ".join(cited[:25]) + (f" (+{len(cited) - 25})" if len(cited) > 25 else "")
        parts += [
            f"{n}. {_(title)} ({len(cited)})",
            _("Root cause: [explain why this happened] Orders: %(orders)s.") % {"orders": shown},
            _("Actions taken: %(text)s") % {"text": _(actions)},
            _("Preventive measures: %(text)s") % {"text": _(prevention)},
            "",
        ]
        fields["causes"].append({"cause": cause, "orders": cited})
    if not groups:
        parts.append(_("No active defects: there is nothing to explain."))
    return Draft(_fit("\n".join(parts).strip(), rules.plan_of_action_chars), fields, None)
