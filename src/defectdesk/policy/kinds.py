"""Every defect kind, declared once (DESIGN §3).

A kind's code and label, the metric it counts in, its default appeal filing window, the
sentences that explain it (with the policy's settings as placeholders), its policy settings
and the reasons a merchant may appeal it with. `Defect.Kind`, the policy profile, the metric
counters, the appeal rules and reasons, the Seller Center and the console all read this
registry; a kind's rule (which orders it opens on) lives in `defects/rules.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from defectdesk.ledger.schemas import (
    ChargebackDecided,
    ChargebackFiled,
    ClaimDecided,
    OrderCancelled,
    literal_choices,
)
from defectdesk.policy.metrics import COMPONENT_BASE, ODR


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    label: str | Promise
    guidance: str | Promise


@dataclass(frozen=True, slots=True)
class Setting:
    """A policy setting of one kind: its default and what values it takes.

    Either a whole number in [low, high] (`message` says so when it is not) or a list of
    names drawn from `names()`."""

    name: str
    default: Any
    low: int = 0
    high: int = 0
    message: str = ""
    names: Callable[[], tuple[str, ...]] | None = None


@dataclass(frozen=True, slots=True)
class DefectKind:
    code: str
    label: Promise
    metric: str  # the metric it counts in (for the order defect rate: when the policy says)
    counter_part: int  # its component's stored code in the counters; fixed, never reused
    filing_window_days: int  # the default time to appeal it
    # Why it opened, for a reviewer, and why it counts, for the merchant; {placeholders} are
    # the kind's policy settings.
    opened_by: Promise
    why_it_counts: Promise
    settings: tuple[Setting, ...] = ()
    reasons: tuple[Reason, ...] = ()

    def default_policy(self) -> dict[str, Any]:
        return {"enabled": True, **{s.name: s.default for s in self.settings}}


OTHER_GUIDANCE = _(
    "Explain plainly what happened and why the defect should not count against you. "
    "Attach whatever shows it: carrier records, photos, invoices, or your messages with the buyer."
)
OTHER = Reason("other", _("Other"), OTHER_GUIDANCE)

DEFECT_KINDS: dict[str, DefectKind] = {}


def kind_declare(kind: DefectKind) -> DefectKind:
    """Add a kind to the registry (its code and counter part must be new)."""
    if kind.code in DEFECT_KINDS:
        raise ValueError(f"defect kind {kind.code!r} is declared twice")
    if kind.counter_part < COMPONENT_BASE or any(
        k.counter_part == kind.counter_part for k in DEFECT_KINDS.values()
    ):
        raise ValueError(f"counter part {kind.counter_part} of {kind.code!r} is taken")
    DEFECT_KINDS[kind.code] = kind
    return kind


kind_declare(
    DefectKind(
        code="negative_feedback",
        label=_("Negative feedback"),
        metric=ODR,
        counter_part=10,
        filing_window_days=90,
        opened_by=_("the buyer left feedback rated {max_rating} stars or lower"),
        why_it_counts=_(
            "A buyer left feedback rated {max_rating} stars or lower. It counts in your Order "
            "Defect Rate."
        ),
        settings=(Setting("max_rating", 2, 1, 4, "must be a rating from 1 to 4"),),
        reasons=(
            Reason(
                "obscene_or_abusive",
                _("The feedback is obscene or abusive"),
                _("Quote the words that are obscene or abusive. No files are usually needed."),
            ),
            Reason(
                "personal_information",
                _("The feedback contains personal information"),
                _(
                    "Point to the personal information (e-mail, phone number, full name, address) "
                    "in the comment."
                ),
            ),
            Reason(
                "product_review_only",
                _("The feedback is a product review only"),
                _(
                    "Show that the comment is about the product itself (quality, design, price) "
                    "and "
                    "not about your shipping or service."
                ),
            ),
            Reason(
                "fulfilled_by_marketplace",
                _("The marketplace fulfilled the order"),
                _(
                    "The order was fulfilled by the marketplace, so delivery and service "
                    "complaints "
                    "are the marketplace's responsibility. The order record proves it."
                ),
            ),
            OTHER,
        ),
    )
)

kind_declare(
    DefectKind(
        code="a_to_z_claim",
        label=_("A-to-z Guarantee claim"),
        metric=ODR,
        counter_part=11,
        filing_window_days=30,
        opened_by=_("the buyer filed an A-to-z Guarantee claim"),
        why_it_counts=_(
            "A buyer filed an A-to-z Guarantee claim. It counts in your Order Defect Rate until "
            "the claim is denied, withdrawn or paid by the marketplace."
        ),
        settings=(
            Setting(
                "removing_outcomes",
                ["denied", "withdrawn", "granted_marketplace_funded"],
                names=lambda: literal_choices(ClaimDecided, "outcome"),
            ),
        ),
        reasons=(
            Reason(
                "delivered_per_tracking",
                _("Delivered according to tracking"),
                _(
                    "Carrier tracking showing delivery to the buyer's address, a delivery scan, "
                    "and "
                    "signature or photo proof of delivery if you have it."
                ),
            ),
            Reason(
                "refunded_before_claim",
                _("Refunded before the claim was filed"),
                _("The refund record with its date and amount; it must be dated before the claim."),
            ),
            Reason(
                "buyer_did_not_return_item",
                _("The buyer did not return the item"),
                _("Your return instructions to the buyer and tracking showing no return arrived."),
            ),
            Reason(
                "claim_outside_policy",
                _("The claim is outside the guarantee's policy"),
                _(
                    "Show which condition of the guarantee the claim does not meet (for example "
                    "filed too early or for an excluded item)."
                ),
            ),
            OTHER,
        ),
    )
)

kind_declare(
    DefectKind(
        code="chargeback",
        label=_("Chargeback"),
        metric=ODR,
        counter_part=12,
        filing_window_days=30,
        opened_by=_("the buyer's bank opened a chargeback with a service reason"),
        why_it_counts=_(
            "The buyer disputed the payment for a service reason. It counts in your Order Defect "
            "Rate unless you win the dispute."
        ),
        settings=(
            Setting(
                "service_reasons",
                ["not_received", "not_as_described", "duplicate", "other"],
                names=lambda: literal_choices(ChargebackFiled, "reason"),
            ),
            Setting(
                "removing_outcomes",
                ["won"],
                names=lambda: literal_choices(ChargebackDecided, "outcome"),
            ),
        ),
        reasons=(
            Reason(
                "proof_of_delivery",
                _("Proof of delivery"),
                _(
                    "Carrier tracking with a delivery scan, and signature or photo proof of "
                    "delivery."
                ),
            ),
            Reason(
                "refunded_before_chargeback",
                _("Refunded before the chargeback"),
                _(
                    "The refund record with its date and amount; it must be dated before the "
                    "chargeback."
                ),
            ),
            OTHER,
        ),
    )
)

kind_declare(
    DefectKind(
        code="cancellation",
        label=_("Cancellation"),
        metric="pre_fulfillment_cancel_rate",
        counter_part=13,
        filing_window_days=30,
        opened_by=_("the seller cancelled the order before shipping it"),
        why_it_counts=_(
            "You cancelled the order before shipping it. It counts in your pre-fulfilment cancel "
            "rate."
        ),
        settings=(
            Setting(
                "requested_by",
                ["seller"],
                names=lambda: literal_choices(OrderCancelled, "requested_by"),
            ),
        ),
        reasons=(
            Reason(
                "buyer_requested",
                _("The buyer asked to cancel"),
                _("The buyer's message asking to cancel the order, with its date."),
            ),
            Reason(
                "address_undeliverable",
                _("The address could not be delivered to"),
                _("The carrier's refusal or the address validation failure."),
            ),
            OTHER,
        ),
    )
)

kind_declare(
    DefectKind(
        code="late_shipment",
        label=_("Late shipment"),
        metric="late_shipment_rate",
        counter_part=14,
        filing_window_days=30,
        opened_by=_("the order shipped after its ship-by time, or had not shipped when it passed"),
        why_it_counts=_(
            "The order shipped after its ship-by date (or had not shipped when it passed). It "
            "counts in your late shipment rate."
        ),
        reasons=(
            Reason(
                "carrier_scan_before_ship_by",
                _("The carrier scanned the package before ship-by"),
                _("The carrier's first acceptance scan, dated before the ship-by date."),
            ),
            Reason(
                "marketplace_delay",
                _("The marketplace's systems caused the delay"),
                _("The time and nature of the outage or delay on the marketplace's side."),
            ),
            OTHER,
        ),
    )
)

kind_declare(
    DefectKind(
        code="invalid_tracking",
        label=_("Invalid tracking"),
        metric="valid_tracking_rate",
        counter_part=15,
        filing_window_days=30,
        opened_by=_(
            "the shipment had no tracking number, or no carrier scan within {scan_grace_hours} "
            "hours of shipping"
        ),
        why_it_counts=_(
            "The shipment had no tracking number, or no carrier scan within {scan_grace_hours} "
            "hours. It counts against your valid tracking rate until a scan arrives."
        ),
        settings=(
            Setting(
                "scan_grace_hours",
                48,
                0,
                720,
                "must be a whole number of hours from 0 to 720",
            ),
        ),
        reasons=(
            Reason(
                "valid_tracking_provided",
                _("The tracking number is valid"),
                _("The carrier's tracking page or receipt showing the number and its scans."),
            ),
            OTHER,
        ),
    )
)

kind_declare(
    DefectKind(
        code="late_delivery",
        label=_("Late delivery"),
        metric="on_time_delivery_rate",
        counter_part=16,
        filing_window_days=30,
        opened_by=_(
            "the order was delivered after its deliver-by time, or not delivered when it passed"
        ),
        why_it_counts=_(
            "The order was delivered after its deliver-by date (or not delivered when it "
            "passed). It counts against your on-time delivery rate."
        ),
        reasons=(
            Reason(
                "carrier_delay",
                _("The carrier delayed the delivery"),
                _(
                    "The carrier's tracking showing a delay on their side (weather, exception "
                    "scans) "
                    "after an on-time handover."
                ),
            ),
            Reason(
                "buyer_unavailable",
                _("The buyer was not available to receive it"),
                _("The carrier's attempted-delivery scan before the deliver-by date."),
            ),
            OTHER,
        ),
    )
)

kind_declare(
    DefectKind(
        code="refund",
        label=_("Refund"),
        metric="refund_rate",
        counter_part=17,
        filing_window_days=30,
        opened_by=_("the seller refunded the order"),
        why_it_counts=_("You issued a refund on this order. It counts in your refund rate."),
        reasons=(
            Reason(
                "buyer_remorse_return",
                _("A return the buyer asked for without a fault"),
                _("The buyer's return reason and the returned item's condition."),
            ),
            Reason(
                "marketplace_initiated",
                _("The marketplace issued the refund"),
                _("The refund record showing the marketplace initiated it."),
            ),
            OTHER,
        ),
    )
)


def kind_label(code: str) -> str:
    """A kind's name in words (the code itself for an unknown one)."""
    found = DEFECT_KINDS.get(code)
    return str(found.label) if found is not None else code


def kinds_in(metric: str) -> tuple[str, ...]:
    """The kinds that count in a metric, in declaration order."""
    return tuple(k.code for k in DEFECT_KINDS.values() if k.metric == metric)


def kind_text(text: Promise, settings: dict[str, Any]) -> str:
    """One of a kind's sentences with the policy's settings in its placeholders."""
    return str(text).format(**settings)
