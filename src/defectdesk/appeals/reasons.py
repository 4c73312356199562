"""The catalogue of appeal reasons per defect kind, with the evidence that helps each (pure)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    label: str
    guidance: str


OTHER_GUIDANCE = (
    "Explain plainly what happened and why the defect should not count against you. "
    "Attach whatever shows it: carrier records, photos, invoices, or your messages with the buyer."
)


def _other() -> Reason:
    return Reason("other", "Other", OTHER_GUIDANCE)


CATALOGUE: dict[str, tuple[Reason, ...]] = {
    "negative_feedback": (
        Reason(
            "obscene_or_abusive",
            "The feedback is obscene or abusive",
            "Quote the words that are obscene or abusive. No files are usually needed.",
        ),
        Reason(
            "personal_information",
            "The feedback contains personal information",
            "Point to the personal information (e-mail, phone number, full name, address) "
            "in the comment.",
        ),
        Reason(
            "product_review_only",
            "The feedback is a product review only",
            "Show that the comment is about the product itself (quality, design, price) and "
            "not about your shipping or service.",
        ),
        Reason(
            "fulfilled_by_marketplace",
            "The marketplace fulfilled the order",
            "The order was fulfilled by the marketplace, so delivery and service complaints "
            "are the marketplace's responsibility. The order record proves it.",
        ),
        _other(),
    ),
    "a_to_z_claim": (
        Reason(
            "delivered_per_tracking",
            "Delivered according to tracking",
            "Carrier tracking showing delivery to the buyer's address, a delivery scan, and "
            "signature or photo proof of delivery if you have it.",
        ),
        Reason(
            "refunded_before_claim",
            "Refunded before the claim was filed",
            "The refund record with its date and amount; it must be dated before the claim.",
        ),
        Reason(
            "buyer_did_not_return_item",
            "The buyer did not return the item",
            "Your return instructions to the buyer and tracking showing no return arrived.",
        ),
        Reason(
            "claim_outside_policy",
            "The claim is outside the guarantee's policy",
            "Show which condition of the guarantee the claim does not meet (for example "
            "filed too early or for an excluded item).",
        ),
        _other(),
    ),
    "chargeback": (
        Reason(
            "proof_of_delivery",
            "Proof of delivery",
            "Carrier tracking with a delivery scan, and signature or photo proof of delivery.",
        ),
        Reason(
            "refunded_before_chargeback",
            "Refunded before the chargeback",
            "The refund record with its date and amount; it must be dated before the chargeback.",
        ),
        _other(),
    ),
    "cancellation": (
        Reason(
            "buyer_requested",
            "The buyer asked to cancel",
            "The buyer's message asking to cancel the order, with its date.",
        ),
        Reason(
            "address_undeliverable",
            "The address could not be delivered to",
            "The carrier's refusal or the address validation failure.",
        ),
        _other(),
    ),
    "late_shipment": (
        Reason(
            "carrier_scan_before_ship_by",
            "The carrier scanned the package before ship-by",
            "The carrier's first acceptance scan, dated before the ship-by date.",
        ),
        Reason(
            "marketplace_delay",
            "The marketplace's systems caused the delay",
            "The time and nature of the outage or delay on the marketplace's side.",
        ),
        _other(),
    ),
    "invalid_tracking": (
        Reason(
            "valid_tracking_provided",
            "The tracking number is valid",
            "The carrier's tracking page or receipt showing the number and its scans.",
        ),
        _other(),
    ),
    "late_delivery": (
        Reason(
            "carrier_delay",
            "The carrier delayed the delivery",
            "The carrier's tracking showing a delay on their side (weather, exception scans) "
            "after an on-time handover.",
        ),
        Reason(
            "buyer_unavailable",
            "The buyer was not available to receive it",
            "The carrier's attempted-delivery scan before the deliver-by date.",
        ),
        _other(),
    ),
    "refund": (
        Reason(
            "buyer_remorse_return",
            "A return the buyer asked for without a fault",
            "The buyer's return reason and the returned item's condition.",
        ),
        Reason(
            "marketplace_initiated",
            "The marketplace issued the refund",
            "The refund record showing the marketplace initiated it.",
        ),
        _other(),
    ),
}


def reasons_for(kind: str) -> tuple[Reason, ...]:
    """The reasons a merchant may choose for a defect of this kind (empty for an unknown kind)."""
    return CATALOGUE.get(kind, ())


def reason_lookup(kind: str, code: str) -> Reason | None:
    """The reason `code` for this kind, or None when the kind does not offer it."""
    return next((r for r in reasons_for(kind) if r.code == code), None)
