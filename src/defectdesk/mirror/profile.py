"""Amazon's rules for an external marketplace, as data: its sites, its report quirks, its
deadlines and the limits of its forms (read at call time, never at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class AmazonSite:
    """One Amazon site a merchant can mirror."""

    site: str  # "amazon.com"
    code: str  # the DefectDesk marketplace code
    name: str
    timezone: str
    currency: str
    marketplace_id: str  # Amazon's id, as in its reports
    sales_channel: str  # the all-orders file's `sales-channel`
    date_order: str  # how the feedback report writes a day: "mdy", "dmy" or "ymd"


SITES: dict[str, AmazonSite] = {
    s.site: s
    for s in (
        AmazonSite(
            "amazon.com",
            "AMZ-US",
            "Amazon.com",
            "America/Los_Angeles",
            "USD",
            "ATVPDKIKX0DER",
            "Amazon.com",
            "mdy",
        ),
        AmazonSite(
            "amazon.co.uk",
            "AMZ-UK",
            "Amazon.co.uk",
            "Europe/London",
            "GBP",
            "A1F83G8C2ARO7P",
            "Amazon.co.uk",
            "dmy",
        ),
        AmazonSite(
            "amazon.de",
            "AMZ-DE",
            "Amazon.de",
            "Europe/Berlin",
            "EUR",
            "A1PA6795UKMFR9",
            "Amazon.de",
            "dmy",
        ),
        AmazonSite(
            "amazon.co.jp",
            "AMZ-JP",
            "Amazon.co.jp",
            "Asia/Tokyo",
            "JPY",
            "A1VC38T7YXB528",
            "Amazon.co.jp",
            "ymd",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class AmazonRules:
    """Amazon's published deadlines and form limits (the "Amazon" policy profile)."""

    decided_by: str = "Amazon"
    # Feedback removal: only within 90 days of the feedback, one request per feedback.
    feedback_removal_days: int = 90
    # An A-to-z claim: the seller answers within 72 hours of Amazon's notice.
    a_to_z_response: timedelta = timedelta(hours=72)
    # An A-to-z decision can be appealed within 30 days.
    a_to_z_appeal_days: int = 30
    # A chargeback representment: within 7 days of Amazon's notice.
    chargeback_response_days: int = 7
    # The A-to-z response is one plain-text box, without attachments.
    a_to_z_box_chars: int = 4000
    # Seller Central's feedback-removal comment box.
    feedback_removal_chars: int = 1000
    chargeback_comment_chars: int = 1000
    plan_of_action_chars: int = 10_000


def amazon_rules() -> AmazonRules:
    return AmazonRules()


# What a feedback-removal request may cite: Amazon removes feedback for these reasons only.
REMOVAL_CRITERIA: dict[str, str] = {
    "obscene_or_abusive": "The feedback contains obscene or abusive language.",
    "personal_information": (
        "The feedback contains personally identifiable information (a name, an e-mail "
        "address, a telephone number or an address)."
    ),
    "product_review_only": (
        "The feedback is entirely a product review and says nothing about the seller's "
        "service or fulfilment."
    ),
    "fulfilled_by_amazon": (
        "The order was fulfilled by Amazon; Amazon takes responsibility for the delivery "
        "complaint in this feedback."
    ),
}
