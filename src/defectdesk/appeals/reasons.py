"""The catalogue of appeal reasons per defect kind, with the evidence that helps each (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    label: str | Promise
    guidance: str | Promise


OTHER_GUIDANCE = _(
    "Explain plainly what happened and why the defect should not count against you. "
    "Attach whatever shows it: carrier records, photos, invoices, or your messages with the buyer."
)


def _other() -> Reason:
    return Reason("other", _("Other"), OTHER_GUIDANCE)


CATALOGUE: dict[str, tuple[Reason, ...]] = {
    "negative_feedback": (
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
                "Show that the comment is about the product itself (quality, design, price) and "
                "not about your shipping or service."
            ),
        ),
        Reason(
            "fulfilled_by_marketplace",
            _("The marketplace fulfilled the order"),
            _(
                "The order was fulfilled by the marketplace, so delivery and service complaints "
                "are the marketplace's responsibility. The order record proves it."
            ),
        ),
        _other(),
    ),
    "a_to_z_claim": (
        Reason(
            "delivered_per_tracking",
            _("Delivered according to tracking"),
            _(
                "Carrier tracking showing delivery to the buyer's address, a delivery scan, and "
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
        _other(),
    ),
    "chargeback": (
        Reason(
            "proof_of_delivery",
            _("Proof of delivery"),
            _("Carrier tracking with a delivery scan, and signature or photo proof of delivery."),
        ),
        Reason(
            "refunded_before_chargeback",
            _("Refunded before the chargeback"),
            _(
                "The refund record with its date and amount; "
                "it must be dated before the chargeback."
            ),
        ),
        _other(),
    ),
    "cancellation": (
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
        _other(),
    ),
    "late_shipment": (
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
        _other(),
    ),
    "invalid_tracking": (
        Reason(
            "valid_tracking_provided",
            _("The tracking number is valid"),
            _("The carrier's tracking page or receipt showing the number and its scans."),
        ),
        _other(),
    ),
    "late_delivery": (
        Reason(
            "carrier_delay",
            _("The carrier delayed the delivery"),
            _(
                "The carrier's tracking showing a delay on their side (weather, exception scans) "
                "after an on-time handover."
            ),
        ),
        Reason(
            "buyer_unavailable",
            _("The buyer was not available to receive it"),
            _("The carrier's attempted-delivery scan before the deliver-by date."),
        ),
        _other(),
    ),
    "refund": (
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
        _other(),
    ),
}


def reasons_for(kind: str) -> tuple[Reason, ...]:
    """The reasons a merchant may choose for a defect of this kind (empty for an unknown kind),
    worded in the active language."""
    return tuple(Reason(r.code, str(r.label), str(r.guidance)) for r in CATALOGUE.get(kind, ()))


def reason_lookup(kind: str, code: str) -> Reason | None:
    """The reason `code` for this kind, or None when the kind does not offer it."""
    return next((r for r in reasons_for(kind) if r.code == code), None)
