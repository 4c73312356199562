"""A deterministic, realistic synthetic event ledger: the demo's, the tests' and the benchmarks'."""

from __future__ import annotations

import dataclasses
import gc
import heapq
import math
import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

HOUR = 3600
DAY = 86400

# Marketplace code -> (time zone, currency, order-id prefix).
MARKETPLACES: dict[str, tuple[str, str, str]] = {
    "US": ("America/Los_Angeles", "USD", "111"),
    "CA": ("America/Toronto", "CAD", "702"),
    "MX": ("America/Mexico_City", "MXN", "701"),
    "BR": ("America/Sao_Paulo", "BRL", "701"),
    "UK": ("Europe/London", "GBP", "202"),
    "GB": ("Europe/London", "GBP", "202"),
    "DE": ("Europe/Berlin", "EUR", "302"),
    "FR": ("Europe/Paris", "EUR", "402"),
    "IT": ("Europe/Rome", "EUR", "403"),
    "ES": ("Europe/Madrid", "EUR", "404"),
    "NL": ("Europe/Amsterdam", "EUR", "405"),
    "JP": ("Asia/Tokyo", "JPY", "503"),
    "CN": ("Asia/Shanghai", "CNY", "601"),
    "IN": ("Asia/Kolkata", "INR", "404"),
    "AU": ("Australia/Sydney", "AUD", "249"),
}
_FALLBACK_MARKETPLACE = ("America/Los_Angeles", "USD", "111")


def default_timezone(marketplace: str) -> str:
    """The IANA time zone the generator uses for a marketplace code by default."""
    return MARKETPLACES.get(marketplace, _FALLBACK_MARKETPLACE)[0]


def default_currency(marketplace: str) -> str:
    """The currency the generator uses for a marketplace code by default."""
    return MARKETPLACES.get(marketplace, _FALLBACK_MARKETPLACE)[1]


@dataclass(frozen=True, slots=True)
class SellerProfile:
    """How one seller behaves: its share of the orders and the rate of each kind of trouble.

    Rates are probabilities per order (per delivered order for `refund`, per buyer message for
    `message_response`); the defaults describe a healthy but realistic seller.
    """

    seller: str
    weight: float = 1.0
    marketplace_fulfilled_share: float = 0.35
    handling_days: int = 1
    buyer_cancel: float = 0.012
    seller_cancel: float = 0.004
    marketplace_cancel: float = 0.002
    late_ship: float = 0.015
    never_ship: float = 0.0015
    no_tracking: float = 0.006
    no_scan: float = 0.008
    late_delivery: float = 0.03
    lost: float = 0.0015
    refund: float = 0.025
    unrefunded_return: float = 0.04
    positive_feedback: float = 0.09
    negative_feedback: float = 0.002
    claim: float = 0.0008
    chargeback: float = 0.001
    chargeback_fraud_share: float = 0.4
    buyer_message: float = 0.06
    message_response: float = 0.96
    message_fast: float = 0.6


def demo_profiles() -> list[SellerProfile]:
    """The demo's three sellers: S-1 fails the ODR, S-2 is healthy, S-3 ships late."""
    healthy = SellerProfile(
        seller="S-2",
        marketplace_fulfilled_share=0.3,
        buyer_cancel=0.008,
        seller_cancel=0.0,
        marketplace_cancel=0.001,
        late_ship=0.004,
        never_ship=0.0,
        no_tracking=0.002,
        no_scan=0.002,
        late_delivery=0.012,
        lost=0.0005,
        refund=0.015,
        unrefunded_return=0.0,
        positive_feedback=0.12,
        negative_feedback=0.0005,
        claim=0.0002,
        chargeback=0.0002,
        message_response=1.0,
        message_fast=0.8,
    )
    return [
        # Order Defect Rate around 2-3 %: negative feedback, A-to-z claims, service chargebacks.
        dataclasses.replace(
            healthy,
            seller="S-1",
            marketplace_fulfilled_share=0.35,
            negative_feedback=0.02,
            claim=0.012,
            chargeback=0.01,
            chargeback_fraud_share=0.15,
            late_delivery=0.04,
            positive_feedback=0.08,
            message_fast=0.6,
        ),
        healthy,
        # Late shipment rate around 9 %, everything else in good standing.
        dataclasses.replace(
            healthy,
            seller="S-3",
            marketplace_fulfilled_share=0.2,
            late_ship=0.085,
            never_ship=0.001,
            message_fast=0.5,
        ),
    ]


# One way a seller can be unhealthy, as overrides of the default profile.
_PROBLEMS: tuple[dict[str, float], ...] = (
    {"negative_feedback": 0.014, "claim": 0.008, "chargeback": 0.006},
    {"late_ship": 0.08, "never_ship": 0.006},
    {"seller_cancel": 0.04},
    {"no_tracking": 0.04, "no_scan": 0.04},
    {"late_delivery": 0.14, "lost": 0.006},
    {"refund": 0.08},
    {"message_response": 0.7, "message_fast": 0.3},
)
_JITTERED = (
    "buyer_cancel",
    "seller_cancel",
    "late_ship",
    "no_tracking",
    "no_scan",
    "late_delivery",
    "refund",
    "positive_feedback",
    "negative_feedback",
    "claim",
    "chargeback",
    "buyer_message",
)


# Seller-size distributions: "zipf" (volume falls with rank, the default) or "long-tail" (a
# marketplace's shape: a few very large sellers, most with a few dozen orders).
SIZES = ("zipf", "long-tail")
# In "long-tail": one head seller per this many sellers, together taking HEAD_SHARE of orders.
HEAD_EVERY = 10_000
HEAD_SHARE = 0.3


def long_tail_weights(sellers: int, *, seed: int) -> list[float]:
    """Order weights, summing to 1: a few head sellers with a large share, a log-normal tail.

    One head seller per HEAD_EVERY sellers (at least one) shares HEAD_SHARE of the orders in
    Zipf fashion (the first has the most); the rest share the remainder with log-normal sizes
    (sigma 1), so the median tail seller has about 0.6 of the tail's mean. At 10,000,000 orders
    over 100,000 sellers: 10 sellers with 100,000 to 1,000,000 orders each, and a tail seller's
    median about 40 orders.
    """
    if sellers < 1:
        raise ValueError("sellers must be at least 1")
    rng = random.Random(seed * 15485863 + 32452843)  # noqa: S311 - synthetic data, not secrets # nosec B311 # seeded synthetic test data, not secrets
    head = min(sellers, max(1, round(sellers / HEAD_EVERY)))
    tail = sellers - head
    head_share = HEAD_SHARE if tail else 1.0
    harmonic = sum(1 / (i + 1) for i in range(head))
    weights = [head_share / (i + 1) / harmonic for i in range(head)]
    sizes = [math.exp(rng.gauss(0.0, 1.0)) for _ in range(tail)]
    total = sum(sizes)
    weights += [(1.0 - head_share) * size / total for size in sizes]
    return weights


def seller_profiles(
    sellers: int, *, seed: int, unhealthy_share: float = 0.25, sizes: str = "zipf"
) -> list[SellerProfile]:
    """Profiles for sellers S-1001.. with Zipf-like volumes (or `sizes` "long-tail": see
    long_tail_weights); some are unhealthy at random."""
    if sellers < 1:
        raise ValueError("sellers must be at least 1")
    if sizes not in SIZES:
        raise ValueError(f"unknown seller sizes {sizes!r}; known: {', '.join(SIZES)}")
    rng = random.Random(seed * 7919 + 104729)  # noqa: S311 - synthetic data, not secrets # nosec B311 # seeded synthetic test data, not secrets
    profiles = []
    for rank in range(sellers):
        base = SellerProfile(seller=f"S-{1001 + rank}")
        changes: dict[str, Any] = {
            name: getattr(base, name) * (0.6 + 0.9 * rng.random()) for name in _JITTERED
        }
        changes["weight"] = (1.0 + 0.3 * rng.random()) / (rank + 1) ** 1.05
        changes["marketplace_fulfilled_share"] = min(0.9, max(0.0, rng.gauss(0.35, 0.25)))
        changes["handling_days"] = 2 if rng.random() < 0.2 else 1
        if rng.random() < unhealthy_share:
            changes.update(_PROBLEMS[int(rng.random() * len(_PROBLEMS))])
        profiles.append(dataclasses.replace(base, **changes))
    if sizes == "long-tail":
        weights = long_tail_weights(sellers, seed=seed)
        profiles = [
            dataclasses.replace(p, weight=w) for p, w in zip(profiles, weights, strict=True)
        ]
    return profiles


# Catalogue: (sku, title, price in cents).
_PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("MUG-01", "Ceramic Coffee Mug 12 oz", 1499),
    ("MUG-02", "Insulated Travel Mug", 2499),
    ("TEA-10", "Loose Leaf Green Tea 200 g", 1299),
    ("CBL-USB-C", "USB-C Charging Cable 2 m", 999),
    ("CHG-65W", "65W USB-C Wall Charger", 3499),
    ("HP-BT-200", "Bluetooth Over-Ear Headphones", 7999),
    ("EB-TWS-3", "True Wireless Earbuds", 4999),
    ("SPK-MINI", "Portable Mini Speaker", 2999),
    ("LMP-DESK", "LED Desk Lamp with Dimmer", 3999),
    ("BLB-E26-4", "Smart Bulb E26 (4-pack)", 4499),
    ("KB-MECH-87", "Mechanical Keyboard 87 Keys", 8999),
    ("MS-WL-2", "Wireless Mouse", 1999),
    ("PAD-XL", "Extended Mouse Pad", 1599),
    ("STD-LAP", "Aluminium Laptop Stand", 3299),
    ("BAG-DAY-20", "Daypack 20 L", 5999),
    ("BTL-STEEL", "Stainless Steel Water Bottle", 2199),
    ("YGA-MAT", "Yoga Mat 6 mm", 2799),
    ("DMB-5KG", "Neoprene Dumbbell 5 kg", 3499),
    ("TWL-BATH-2", "Cotton Bath Towel (2-pack)", 2999),
    ("SHT-QN", "Queen Sheet Set", 5499),
    ("PIL-MEM", "Memory Foam Pillow", 3999),
    ("CND-SOY-3", "Soy Candle Trio", 2599),
    ("PAN-28", "Non-Stick Frying Pan 28 cm", 3999),
    ("KNF-CHEF", "Chef's Knife 8 in", 4999),
    ("BRD-BMB", "Bamboo Cutting Board", 1899),
    ("GRN-SALT", "Salt and Pepper Grinder Set", 2299),
    ("BK-NOVEL", "Paperback Novel", 1499),
    ("PZL-1000", "Jigsaw Puzzle 1000 Pieces", 1999),
    ("LEGO-LIKE", "Building Bricks Set 500 Pieces", 3999),
    ("PEN-GEL-12", "Gel Pens (12-pack)", 1199),
    ("NB-A5-DOT", "Dotted Notebook A5", 1399),
    ("PHN-CASE", "Phone Case", 1699),
    ("SCR-GLASS", "Tempered Glass Screen Protector", 899),
    ("WCH-BAND", "Silicone Watch Band", 1299),
    ("SNG-POL", "Polarized Sunglasses", 2999),
    ("SCK-WOOL-3", "Merino Wool Socks (3-pack)", 2499),
    ("CAP-BB", "Baseball Cap", 1999),
    ("JKT-RAIN", "Packable Rain Jacket", 6999),
    ("DOG-BED-M", "Dog Bed, Medium", 4599),
    ("CAT-TREE", "Cat Tree Tower", 7499),
    ("PLN-POT-3", "Ceramic Plant Pots (3-pack)", 2799),
    ("HSE-50", "Garden Hose 50 ft", 3899),
    ("DRL-18V", "Cordless Drill 18V", 8999),
    ("TPE-MEAS", "Tape Measure 25 ft", 1299),
    ("VAC-HAND", "Handheld Vacuum", 6999),
    ("AIR-PUR", "HEPA Air Purifier", 12999),
    ("MON-27", "27 in IPS Monitor", 22999),
    ("CHR-OFF", "Ergonomic Office Chair", 27999),
)

_CARRIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("UPS", ("Ground", "2nd Day Air", "3 Day Select")),
    ("USPS", ("Ground Advantage", "Priority Mail", "Priority Mail Express")),
    ("FedEx", ("Ground", "Home Delivery", "2Day")),
    ("DHL", ("eCommerce", "Express")),
)
_MARKETPLACE_CARRIER = "Marketplace Logistics"
_MARKETPLACE_SERVICES = ("Standard", "Two-Day", "One-Day")
_LOCATIONS: dict[str, tuple[str, ...]] = {
    "US": (
        "Louisville, KY, US",
        "Memphis, TN, US",
        "Ontario, CA, US",
        "Dallas, TX, US",
        "Chicago, IL, US",
        "Atlanta, GA, US",
        "Newark, NJ, US",
        "Phoenix, AZ, US",
        "Seattle, WA, US",
        "Denver, CO, US",
        "Columbus, OH, US",
        "Reno, NV, US",
    ),
    "": (
        "Leipzig, DE",
        "Cologne, DE",
        "East Midlands, GB",
        "Paris, FR",
        "Milan, IT",
        "Madrid, ES",
        "Tilburg, NL",
        "Toronto, CA",
        "Tokyo, JP",
        "Sydney, AU",
    ),
}

# Local hour-of-day weights for order placement (a quiet night, a busy evening).
_HOURLY = (
    0.6, 0.4, 0.3, 0.25, 0.25, 0.35, 0.6, 1.0, 1.4, 1.6, 1.7, 1.8,
    1.9, 1.9, 1.8, 1.8, 1.9, 2.0, 2.2, 2.4, 2.4, 2.1, 1.6, 1.0,
)  # fmt: skip
_WEEKDAY = (1.05, 1.0, 1.0, 0.98, 1.0, 0.92, 0.95)
# Orders placed after this local time count their handling time from the next business day.
_SAME_DAY_CUTOFF = 14 * HOUR

_CANCEL_REASONS = {
    "buyer": ("ordered_by_mistake", "found_cheaper_elsewhere", "delivery_too_slow", "changed_mind"),
    "seller": ("out_of_stock", "pricing_error", "undeliverable_address", "buyer_request"),
    "marketplace": ("payment_declined", "suspected_fraud", "listing_removed"),
}
_RETURN_REASONS = ("defective", "not_as_described", "no_longer_needed", "wrong_item", "damaged")
_POSITIVE = (
    "Great product, fast shipping.",
    "Exactly as described. Would buy again.",
    "Arrived early and well packed.",
    "Good value, quick delivery.",
    "Seller was helpful, thanks!",
)
_NEUTRAL = ("OK product, slow to arrive.", "Does the job.", "Packaging was a bit damaged.")
_NEGATIVE = (
    "Item never arrived and the seller did not respond.",
    "Arrived broken. Very disappointed.",
    "Not as described, cheap quality.",
    "Shipped a week late.",
    "Still waiting for my refund.",
    "Wrong item sent.",
)
_RESOLVED = ("Seller resolved the issue quickly, thank you.", "Replacement arrived, all good now.")
_REMOVAL = ("product_review_only", "obscene_or_abusive", "personal_information", "buyer_request")

_ASK = (
    "Hi, can you ship this by Friday? It's a gift.",
    "Could you confirm the colour before shipping?",
    "Can I change the delivery address to my office?",
    "Does this come with a warranty?",
    "Is this the latest model?",
)
_WHERE = (
    "Where is my order? The tracking hasn't updated in days.",
    "My package never arrived. Can you check with the carrier?",
    "Tracking says delivered but it never arrived.",
    "It's past the delivery date and still nothing. Where is it?",
)
_REFUND = (
    "The item arrived damaged. I would like a refund.",
    "I sent the return last week, when will I get my refund?",
    "This is not what was described. Please refund me.",
)
_CLAIM = (
    "If this isn't resolved today I will file an A-to-z claim.",
    "Still no refund. I'm going to open a claim with the marketplace.",
)
_CANCELLED = ("Why was my order cancelled?", "You cancelled my order, is it coming back in stock?")
_THANKS = ("Thank you!", "Got it, thanks.", "Received, all good.")
_REPLIES = (
    "Thanks for reaching out! We're looking into this now.",
    "Sorry for the trouble. We've contacted the carrier and will update you within a day.",
    "Your order is on its way; here is the latest tracking update.",
    "We've issued your refund; it should show in 3-5 business days.",
    "Happy to help. Yes, that works for us.",
)

_CLAIM_REASONS = (("not_received", 0.4), ("not_as_described", 0.4), ("other", 0.2))
_CLAIM_OUTCOMES = (
    ("denied", 0.25),
    ("withdrawn", 0.12),
    ("refunded_by_seller", 0.2),
    ("granted_seller_funded", 0.28),
    ("granted_marketplace_funded", 0.15),
)
_SERVICE_CHARGEBACK_REASONS = (
    ("not_received", 0.4),
    ("not_as_described", 0.3),
    ("duplicate", 0.12),
    ("other", 0.18),
)
_CHARGEBACK_OUTCOMES = (("won", 0.35), ("lost", 0.35), ("accepted", 0.3))


def _pick_weighted(u: float, table: Sequence[tuple[str, float]]) -> str:
    """The value whose slice of [0, 1) holds u (weights sum to 1)."""
    for value, weight in table:
        if u < weight:
            return value
        u -= weight
    return table[-1][0]


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


@cache
def _clock() -> tuple[str, ...]:
    """The "THH:MM:SSZ" suffix for every second of a UTC day."""
    return tuple(f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(DAY))


class _Calendar:
    """Local calendar days of the marketplace's zone, as UTC epoch seconds."""

    def __init__(self, first: date, days: int, tz: ZoneInfo) -> None:
        self.first = first
        self.tz = tz
        self.midnights = [
            int(datetime.combine(first + timedelta(days=i), time.min, tzinfo=tz).timestamp())
            for i in range(days + 1)
        ]
        self.weekdays = [(first + timedelta(days=i)).weekday() for i in range(days)]
        self._deadlines: dict[int, tuple[int, str]] = {}

    def day_of(self, ts: int) -> int:
        """The index of the local day holding the instant ts."""
        return bisect_right(self.midnights, ts) - 1

    def at(self, day: int, seconds: float) -> int:
        """The instant `seconds` into local day `day` (kept inside a short DST day)."""
        start = self.midnights[day]
        return start + min(int(seconds), self.midnights[day + 1] - start - 1)

    def business_days_after(self, day: int, count: int) -> int:
        """The local day `count` business days (Monday to Friday) after `day`."""
        while count > 0:
            day += 1
            if self.weekdays[day] < 5:
                count -= 1
        return day

    def deadline(self, day: int) -> tuple[int, str]:
        """23:59:59 local time on `day`: as an instant and as ISO-8601 with the local offset."""
        cached = self._deadlines.get(day)
        if cached is None:
            moment = datetime.combine(
                self.first + timedelta(days=day), time(23, 59, 59), tzinfo=self.tz
            )
            cached = (self.midnights[day + 1] - 1, moment.isoformat())
            self._deadlines[day] = cached
        return cached


class _Quota:
    """Yes/no decisions at a rate, spread evenly: gaps between hits vary +-50 % around 1/rate.

    Compared with independent draws, the count in any run of orders stays close to its
    expectation, so a small seller shows the health its profile describes.
    """

    __slots__ = ("countdown", "r", "rate")

    def __init__(self, rate: float, r: Callable[[], float]) -> None:
        self.rate = rate
        self.r = r
        if rate >= 1:
            self.countdown = float("-inf")
        else:
            self.countdown = r() / rate if rate > 0 else float("inf")

    def hit(self) -> bool:
        self.countdown -= 1.0
        if self.countdown > 0:
            return False
        self.countdown += (0.5 + self.r()) / self.rate
        return True


class _Quotas:
    """One seller's evenly spread decisions, one stream per kind of trouble."""

    __slots__ = (
        "chargeback",
        "claim",
        "late_delivery",
        "late_ship",
        "message_miss",
        "negative_feedback",
        "no_scan",
        "no_tracking",
        "refund",
        "seller_cancel",
    )

    def __init__(self, p: SellerProfile, r: Callable[[], float]) -> None:
        self.seller_cancel = _Quota(p.seller_cancel, r)
        self.late_ship = _Quota(p.late_ship, r)
        self.no_tracking = _Quota(p.no_tracking, r)
        self.no_scan = _Quota(p.no_scan, r)
        self.late_delivery = _Quota(p.late_delivery, r)
        self.refund = _Quota(p.refund, r)
        self.negative_feedback = _Quota(p.negative_feedback, r)
        self.claim = _Quota(p.claim, r)
        self.chargeback = _Quota(p.chargeback, r)
        self.message_miss = _Quota(1.0 - p.message_response, r)


# A pending event: (occurred_at as epoch seconds, type, (order, seller), data keys, data values).
# Keys and values stay flat tuples of strings and numbers until the event is written: smaller
# than dicts, and untracked by the garbage collector.
_Pending = tuple[int, str, tuple[str, str], tuple[str, ...] | None, tuple[Any, ...]]

_K_SHIPPED = ("carrier", "service", "tracking_number")
_K_SHIPPED_UNTRACKED = ("carrier", "service")
_K_SCANNED = ("status", "location")
_K_DELIVERED = ("signature", "proof_url")
_K_DELIVERED_NO_PROOF = ("signature",)
_K_CANCELLED = ("requested_by", "reason")
_K_RETURN = ("reason",)
_K_REFUND = ("amount", "reason", "initiated_by")
_K_FEEDBACK = ("feedback_id", "rating", "comment")
_K_FEEDBACK_REMOVED = ("feedback_id", "reason")
_K_CLAIM = ("claim_id", "reason", "amount")
_K_CLAIM_DECIDED = ("claim_id", "outcome")
_K_CHARGEBACK = ("chargeback_id", "reason", "amount")
_K_CHARGEBACK_DECIDED = ("chargeback_id", "outcome")
_K_MESSAGE = ("message_id", "body")
_K_NO_RESPONSE = ("message_id",)

_ORDER_MULTIPLIER = 6364136223846793  # odd and not a multiple of 5: a bijection modulo 10**14


class _Ledger:
    """Simulates orders day by day and yields their events in time order."""

    def __init__(
        self,
        *,
        orders: int,
        profiles: Sequence[SellerProfile],
        days: int,
        seed: int,
        end: date,
        marketplace: str,
        tz: ZoneInfo,
        currency: str,
        id_prefix: str,
    ) -> None:
        self.orders = orders
        self.profiles = list(profiles)
        self.days = days
        self.seed = seed
        self.marketplace = marketplace
        self.currency = currency
        self.id_prefix = id_prefix
        self.order_prefix = MARKETPLACES.get(marketplace, _FALLBACK_MARKETPLACE)[2]
        self.locations = _LOCATIONS.get(marketplace, _LOCATIONS[""])
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets # nosec B311 # seeded synthetic test data, not secrets
        first = end - timedelta(days=days - 1)
        # Deadlines and deliveries run past the last day; 60 spare days cover every lookup.
        self.cal = _Calendar(first, days + 60, tz)
        self.cutoff = self.cal.midnights[days]
        # Events waiting for their day: those scheduled today, and earlier days' as tuples.
        self.buckets: list[list[_Pending]] = [[] for _ in range(days)]
        self.frozen: list[list[tuple[_Pending, ...]]] = [[] for _ in range(days)]
        self.order_offset = (seed * 2862933555777941757) % 10**14
        self.buyer_pool = max(10, int(orders * 0.7))
        total_weight = 0.0
        self.cumulative: list[float] = []
        for profile in self.profiles:
            total_weight += max(profile.weight, 0.0)
            self.cumulative.append(total_weight)
        self.total_weight = total_weight
        self.catalogues = [self._catalogue(i) for i in range(len(self.profiles))]
        self.quotas = [_Quotas(profile, self.rng.random) for profile in self.profiles]
        hourly_total = sum(_HOURLY)
        self.hour_cumulative: list[float] = []
        running = 0.0
        for weight in _HOURLY:
            running += weight / hourly_total
            self.hour_cumulative.append(running)

    def _catalogue(self, index: int) -> tuple[tuple[str, str, int], ...]:
        rng = random.Random(self.seed * 31 + index)  # noqa: S311 - synthetic data, not secrets # nosec B311 # seeded synthetic test data, not secrets
        size = 4 + int(rng.random() * 9)
        return tuple(_PRODUCTS[int(rng.random() * len(_PRODUCTS))] for _ in range(size))

    def _daily_counts(self) -> list[int]:
        """Orders per day: a weekly rhythm, mild growth and noise, summing exactly to `orders`."""
        r = self.rng.random
        weights = []
        for day in range(self.days):
            trend = 0.85 + 0.3 * day / max(1, self.days - 1)
            weights.append(_WEEKDAY[self.cal.weekdays[day]] * trend * (0.9 + 0.2 * r()))
        scale = self.orders / sum(weights)
        exact = [w * scale for w in weights]
        counts = [int(x) for x in exact]
        short = self.orders - sum(counts)
        by_remainder = sorted(range(self.days), key=lambda i: (counts[i] - exact[i], i))
        for i in by_remainder[:short]:
            counts[i] += 1
        return counts

    def _push(
        self, ts: int, kind: str, ctx: tuple[str, str], keys: tuple[str, ...] | None, *values: Any
    ) -> None:
        """Schedule an event; data is dict(zip(keys, values)), or values[0] when keys is None."""
        if ts < self.cutoff:
            self.buckets[bisect_right(self.cal.midnights, ts) - 1].append(
                (ts, kind, ctx, keys, values)
            )

    def _freeze(self, first: int) -> None:
        """Turn the events scheduled for later days into tuples.

        The garbage collector stops tracking a tuple of plain values, so a backlog of millions
        of events costs it nothing; in growing lists every full collection would visit them.
        """
        buckets = self.buckets
        for day in range(first, self.days):
            if buckets[day]:
                self.frozen[day].append(tuple(buckets[day]))
                buckets[day] = []

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event up to the end of the last day, sorted by time (ties by id)."""
        counts = self._daily_counts()
        index = 0
        emitted = 0
        prefix = self.id_prefix
        marketplace = self.marketplace
        clock = _clock()
        day_strings: dict[int, str] = {}
        for day in range(self.days):
            # Scheduling a day allocates hundreds of thousands of small tuples that all live on;
            # collecting while they are made would only move them between generations.
            collecting = gc.isenabled()
            gc.disable()
            try:
                for _ in range(counts[day]):
                    self._order(index, day)
                    index += 1
                bucket = list(chain.from_iterable(self.frozen[day]))
                bucket.extend(self.buckets[day])
                self.buckets[day] = []
                self.frozen[day] = []
                self._freeze(day + 1)
                # A stable sort on time alone: simultaneous events keep the order they were made.
                bucket.sort(key=itemgetter(0))
            finally:
                if collecting:
                    gc.enable()
            for ts, kind, ctx, keys, values in bucket:
                emitted += 1
                utc_day, second = divmod(ts, DAY)
                day_string = day_strings.get(utc_day)
                if day_string is None:
                    day_string = date.fromordinal(719163 + utc_day).isoformat()
                    day_strings[utc_day] = day_string
                yield {
                    "id": f"{prefix}{emitted:09d}",
                    "type": kind,
                    "occurred_at": day_string + clock[second],
                    "marketplace": marketplace,
                    "seller": ctx[1],
                    "order": ctx[0],
                    "data": values[0] if keys is None else dict(zip(keys, values, strict=False)),
                }

    def _basket(self, catalogue: Any) -> tuple[list[dict[str, Any]], int]:
        """One to three lines from the seller's catalogue, and their total."""
        r = self.rng.random
        items = []
        total = 0
        for _ in range(1 if r() < 0.75 else (2 if r() < 0.8 else 3)):
            sku, title, price = catalogue[int(r() * len(catalogue))]
            u = r()
            quantity = 1 if u < 0.85 else (2 if u < 0.97 else 3)
            total += price * quantity
            items.append({"sku": sku, "title": title, "quantity": quantity, "price": _cents(price)})
        return items, total

    def _cancelled_early(self, story: _Story, ship_by: int) -> bool:
        """Cancel the order before shipment, by one of the three parties, when its dice say so;
        whether its story ends there (a buyer's late cancellation is told after shipment)."""
        r = self.rng.random
        p, q, placed = story.profile, story.quotas, story.placed
        u = r()
        if u < p.buyer_cancel:
            if r() < 0.85:
                when = placed + 600 + int(r() * 12 * HOUR)
                story.cancel(when, "buyer")
                return True
            story.cancel_after_shipping = True
        elif story.merchant and q.seller_cancel.hit():
            when = placed + HOUR + int(r() * 1.3 * (ship_by - placed))
            story.cancel(when, "seller")
            if r() < 0.3:
                story.conversation(when + HOUR + int(r() * 2 * DAY), _CANCELLED)
            if r() < 0.05:
                story.feedback(when + DAY + int(r() * 5 * DAY), negative=True)
            return True
        elif u < p.buyer_cancel + p.marketplace_cancel:
            story.cancel(placed + 300 + int(r() * 4 * HOUR), "marketplace")
            return True
        return False

    def _delivery(self, shipped: int, deliver_by: int, late: bool) -> tuple[int, bool]:
        """When a parcel that is not lost arrives, and whether that is late (a parcel with too
        little time left before its deliver-by is late whatever its dice said)."""
        r = self.rng.random
        cal = self.cal
        if late or deliver_by - shipped < 20 * HOUR:
            late = True
            moment = max(deliver_by, shipped + 18 * HOUR) + HOUR + int(r() ** 2 * 5 * DAY)
        else:
            span = deliver_by - shipped - 19 * HOUR
            moment = shipped + 18 * HOUR + int(span * r() ** 1.3)
        # Parcels arrive in the daytime, unless that would break the story told so far.
        delivered = cal.at(cal.day_of(moment), 9 * HOUR + r() * 11 * HOUR)
        if delivered <= shipped + 6 * HOUR or (delivered > deliver_by) != late:
            delivered = moment
        return delivered, late

    def _carriage(self, story: _Story, shipped: int, deliver_by: int, late_ship: bool) -> None:
        """Carrier scans and delivery (or loss) of a shipped order, then what follows."""
        r = self.rng.random
        p, q, merchant = story.profile, story.quotas, story.merchant
        tracked = story.tracking is not None
        no_scan = (tracked and q.no_scan.hit()) if merchant else r() < 0.001
        exception = r() < 0.025
        lost = r() < p.lost
        trouble = (0.25 if late_ship else 0.0) + (0.4 if exception else 0.0)
        if merchant:
            late_delivery = q.late_delivery.hit() or r() < trouble
        else:
            late_delivery = r() < (p.late_delivery + trouble) / 3
        delivered: int | None = None
        if not lost:
            delivered, late_delivery = self._delivery(shipped, deliver_by, late_delivery)
        if story.tracking is not None:
            if no_scan:
                if r() < 0.35:
                    story.scan(shipped + 50 * HOUR + int(r() * 4 * DAY), "in_transit")
            else:
                story.scans(shipped, delivered, exception)
        if delivered is not None and (story.tracking is not None or r() < 0.3):
            story.deliver(delivered)
        story.after_delivery(delivered, deliver_by, late_delivery, lost, late_ship)

    def _order(self, index: int, day: int) -> None:
        """Place one order and schedule everything that will happen to it."""
        rng = self.rng
        r = rng.random
        cal = self.cal
        push = self._push
        seller_index = bisect_right(self.cumulative, r() * self.total_weight)
        seller_index = min(seller_index, len(self.profiles) - 1)
        p = self.profiles[seller_index]

        hour = bisect_right(self.hour_cumulative, r())
        local_seconds = min(hour, 23) * HOUR + r() * HOUR
        placed = cal.at(day, local_seconds)
        code = (index * _ORDER_MULTIPLIER + self.order_offset) % 10**14
        order_id = f"{self.order_prefix}-{code // 10**7:07d}-{code % 10**7:07d}"
        ctx = (order_id, p.seller)

        merchant = r() >= p.marketplace_fulfilled_share
        handling = max(1, p.handling_days) if merchant else 1
        if local_seconds >= _SAME_DAY_CUTOFF:
            handling += 1
        ship_day = cal.business_days_after(day, handling)
        deliver_day = ship_day + (3 + int(r() * 3) if merchant else 2 + int(r() * 3))
        ship_by, ship_by_text = cal.deadline(ship_day)
        deliver_by, deliver_by_text = cal.deadline(deliver_day)

        items, total = self._basket(self.catalogues[seller_index])
        total_text = _cents(total)
        push(
            placed,
            "order.placed",
            ctx,
            None,
            {
                "buyer": f"B-{1 + int(r() * self.buyer_pool)}",
                "fulfillment": "merchant" if merchant else "marketplace",
                "total": {"amount": total_text, "currency": self.currency},
                "ship_by": ship_by_text,
                "deliver_by": deliver_by_text,
                "items": items,
                "payment_ref": f"pi_{rng.getrandbits(96):024x}",
            },
        )
        q = self.quotas[seller_index]
        story = _Story(self, p, q, ctx, code, placed, merchant, total)

        if self._cancelled_early(story, ship_by):
            return

        # Shipment.
        if merchant and r() < p.never_ship:
            story.never_shipped(ship_by, deliver_by)
            return
        late_ship = merchant and q.late_ship.hit()
        if late_ship:
            shipped = ship_by + HOUR + int(r() ** 1.5 * 3 * DAY)
        else:
            span = ship_by - placed - 2 * HOUR
            shipped = placed + 1200 + int(span * r() ** 1.6)
        shipped = story.ship(shipped, merchant, merchant and q.no_tracking.hit())
        if story.cancel_after_shipping:
            story.intercepted(shipped)
            return

        self._carriage(story, shipped, deliver_by, late_ship)


class _Story:
    """Everything that happens to one order after it is placed."""

    __slots__ = (
        "cancel_after_shipping",
        "code",
        "ctx",
        "ledger",
        "merchant",
        "messages",
        "placed",
        "profile",
        "push",
        "quotas",
        "r",
        "total",
        "tracking",
    )

    def __init__(
        self,
        ledger: _Ledger,
        profile: SellerProfile,
        quotas: _Quotas,
        ctx: tuple[str, str],
        code: int,
        placed: int,
        merchant: bool,
        total: int,
    ) -> None:
        self.ledger = ledger
        self.profile = profile
        self.quotas = quotas
        self.ctx = ctx
        self.code = code
        self.placed = placed
        self.merchant = merchant
        self.total = total
        self.push = ledger._push
        self.r = ledger.rng.random
        self.cancel_after_shipping = False
        self.tracking: str | None = None
        self.messages = 0

    def _choice(self, options: Sequence[str]) -> str:
        return options[int(self.r() * len(options))]

    def cancel(self, when: int, by: str) -> None:
        reason = self._choice(_CANCEL_REASONS[by])
        self.push(when, "order.cancelled", self.ctx, _K_CANCELLED, by, reason)

    def ship(self, when: int, merchant: bool, untracked: bool) -> int:
        r = self.r
        if merchant:
            carrier, services = _CARRIERS[int(r() * len(_CARRIERS))]
            service = self._choice(services)
            if not untracked:
                self.tracking = self._tracking_number(carrier)
        else:
            carrier = _MARKETPLACE_CARRIER
            service = self._choice(_MARKETPLACE_SERVICES)
            self.tracking = f"TBA{int(r() * 10**12):012d}"
        if self.tracking is None:
            self.push(when, "order.shipped", self.ctx, _K_SHIPPED_UNTRACKED, carrier, service)
        else:
            self.push(when, "order.shipped", self.ctx, _K_SHIPPED, carrier, service, self.tracking)
        return when

    def _tracking_number(self, carrier: str) -> str:
        bits = self.ledger.rng.getrandbits(64)
        if carrier == "UPS":
            return f"1Z{bits:016X}"
        if carrier == "USPS":
            return f"9400{bits % 10**18:018d}"
        if carrier == "FedEx":
            return f"{bits % 10**12:012d}"
        return f"{bits % 10**10:010d}"

    def scan(self, when: int, status: str) -> None:
        location = self._choice(self.ledger.locations)
        self.push(when, "shipment.scanned", self.ctx, _K_SCANNED, status, location)

    def scans(self, shipped: int, delivered: int | None, exception: bool) -> None:
        """Acceptance, up to two hops in transit, maybe an exception, and out for delivery."""
        r = self.r
        last = delivered if delivered is not None else shipped + 4 * DAY
        accepted = shipped + 300 + int(r() * min(8 * HOUR, (last - shipped) // 4))
        self.scan(accepted, "accepted")
        u = r()
        hops = 0 if u < 0.25 else (1 if u < 0.85 else 2)
        gap = (last - accepted) // (hops + 2)
        moment = accepted
        for hop in range(hops):
            moment = accepted + gap * (hop + 1)
            self.scan(moment, "in_transit")
            if exception and hop == 0:
                self.scan(moment + gap // 2, "exception")
        if exception and hops == 0:
            self.scan(accepted + gap, "exception")
        if delivered is not None:
            out = delivered - max(60, int(min(5 * HOUR, gap // 2) * (0.2 + 0.8 * r())))
            self.scan(out, "out_for_delivery")

    def deliver(self, when: int) -> None:
        r = self.r
        signature = self.total >= 25000 or r() < 0.03
        if self.tracking is not None and r() < 0.85:
            proof_url = f"https://proof.example.com/{self.tracking}.jpg"
            self.push(when, "order.delivered", self.ctx, _K_DELIVERED, signature, proof_url)
        else:
            self.push(when, "order.delivered", self.ctx, _K_DELIVERED_NO_PROOF, signature)

    def intercepted(self, shipped: int) -> None:
        """The buyer cancels once the parcel is on its way; it goes back and is refunded."""
        r = self.r
        cancelled = shipped + 1800 + int(r() * 20 * HOUR)
        self.cancel(cancelled, "buyer")
        if self.tracking is not None:
            self.scan(shipped + 1800 + int(r() * 6 * HOUR), "accepted")
        self.refund(cancelled + 3 * DAY + int(r() * 5 * DAY), self.total, "order_cancelled")

    def never_shipped(self, ship_by: int, deliver_by: int) -> None:
        """The seller never ships; the buyer asks, and the marketplace or a claim ends it."""
        r = self.r
        self.conversation(ship_by + 6 * HOUR + int(r() * 2 * DAY), _WHERE, chance=0.6)
        if r() < 0.6:
            self.cancel(ship_by + 2 * DAY + int(r() * 5 * DAY), "marketplace")
        elif r() < 0.4:
            self.claim(deliver_by + 3 * DAY + int(r() * 10 * DAY), "not_received")
        if r() < 0.15:
            self.feedback(deliver_by + int(r() * 10 * DAY), negative=True)

    def refund(self, when: int, amount: int, reason: str, by: str = "seller") -> None:
        self.push(when, "refund.issued", self.ctx, _K_REFUND, _cents(amount), reason, by)

    def after_delivery(
        self,
        delivered: int | None,
        deliver_by: int,
        late_delivery: bool,
        lost: bool,
        late_ship: bool,
    ) -> None:
        """Returns, refunds, feedback, claims, chargebacks and buyer messages."""
        r = self.r
        p = self.profile
        q = self.quotas
        settled = delivered if delivered is not None else deliver_by
        unrefunded_at, returned = self._refunds(delivered, deliver_by, late_delivery, lost)

        # Feedback: trouble makes a negative rating likelier.
        trouble = (0.02 if late_delivery else 0.0) + (0.15 if lost else 0.0)
        when = settled + HOUR + int(r() ** 2 * 30 * DAY)
        u = r()
        if q.negative_feedback.hit() or u < trouble:
            self.feedback(when, negative=True)
        elif u < trouble + 0.012:
            self.feedback(when, rating=3)
        elif u < trouble + 0.012 + p.positive_feedback:
            self.feedback(when, negative=False)

        self._disputes(settled, deliver_by, unrefunded_at, late_delivery, lost)

        # Buyer messages: questions before shipping, complaints after trouble.
        if lost or (late_delivery and r() < 0.5):
            self.conversation(deliver_by + 2 * HOUR + int(r() * 3 * DAY), _WHERE, chance=0.5)
        elif returned and r() < 0.1:
            self.conversation(settled + int(r() * 10 * DAY), _CLAIM)
        elif r() < p.buyer_message:
            if r() < 0.6:
                self.conversation(self.placed + 600 + int(r() * DAY), _ASK)
            elif late_ship:
                self.conversation(self.placed + DAY + int(r() * 2 * DAY), _WHERE)
            else:
                self.conversation(settled + HOUR + int(r() * 7 * DAY), _THANKS + _ASK)

    def _refunds(
        self, delivered: int | None, deliver_by: int, late_delivery: bool, lost: bool
    ) -> tuple[int | None, bool]:
        """Returns and refunds: (when a returned parcel was received but never refunded, or
        None; whether the buyer asked to return it)."""
        r = self.r
        p = self.profile
        unrefunded_at: int | None = None
        returned = False
        if delivered is not None and self.quotas.refund.hit():
            if r() < 0.75:
                returned = True
                reason = self._choice(_RETURN_REASONS)
                requested = delivered + HOUR + int(r() ** 1.5 * 14 * DAY)
                self.push(requested, "return.requested", self.ctx, _K_RETURN, reason)
                if r() < 0.85:
                    received = requested + 3 * DAY + int(r() * 7 * DAY)
                    self.push(received, "return.received", self.ctx, _K_RETURN, reason)
                    amount = self.total
                    if reason == "no_longer_needed" and r() < 0.3:
                        amount = self.total * 80 // 100
                    if r() < p.unrefunded_return:
                        unrefunded_at = received
                    else:
                        by = "seller" if self.merchant else "marketplace"
                        refunded = received + 2 * HOUR + int(r() * 3 * DAY)
                        self.refund(refunded, amount, "return", by)
                if r() < 0.3:
                    self.conversation(requested + int(r() * 4 * DAY), _REFUND)
            else:
                share = 10 + int(r() * 41)
                reason = "late_delivery" if late_delivery else self._choice(("damaged", "courtesy"))
                when = delivered + HOUR + int(r() * 10 * DAY)
                self.refund(when, self.total * share // 100, reason)
        elif lost and r() < 0.3:
            self.refund(deliver_by + DAY + int(r() * 7 * DAY), self.total, "lost_in_transit")
        return unrefunded_at, returned

    def _disputes(
        self,
        settled: int,
        deliver_by: int,
        unrefunded_at: int | None,
        late_delivery: bool,
        lost: bool,
    ) -> None:
        """A-to-z Guarantee claims and payment disputes."""
        r = self.r
        q = self.quotas
        trouble = (0.35 if lost else 0.0) + (0.01 if late_delivery else 0.0)
        if unrefunded_at is not None and r() < 0.5:
            self.claim(unrefunded_at + 5 * DAY + int(r() * 15 * DAY), "return_not_refunded")
        elif q.claim.hit() or r() < trouble:
            reason = "not_received" if lost else _pick_weighted(r(), _CLAIM_REASONS)
            if reason == "not_received":
                filed = deliver_by + DAY + int(r() ** 1.5 * 25 * DAY)
            else:
                filed = settled + 2 * DAY + int(r() ** 1.5 * 25 * DAY)
            self.claim(filed, reason)

        if q.chargeback.hit() or (lost and r() < 0.04):
            if lost:
                reason = "not_received"
            elif r() < self.profile.chargeback_fraud_share:
                reason = "fraud" if r() < 0.55 else "unrecognized"
            else:
                reason = _pick_weighted(r(), _SERVICE_CHARGEBACK_REASONS)
            self.chargeback(self.placed + 7 * DAY + int(r() ** 1.5 * 50 * DAY), reason)

    def feedback(self, when: int, *, negative: bool = False, rating: int | None = None) -> None:
        r = self.r
        if rating is None:
            rating = (1 if r() < 0.6 else 2) if negative else (5 if r() < 0.7 else 4)
        feedback_id = f"FB-{self.code:014d}"
        comments = _NEGATIVE if rating <= 2 else (_NEUTRAL if rating == 3 else _POSITIVE)
        self._post_feedback(when, feedback_id, rating, self._choice(comments))
        if rating <= 2 and r() < 0.1:
            when += DAY + int(r() * 10 * DAY)
            self._post_feedback(when, feedback_id, 4 + int(r() * 2), self._choice(_RESOLVED))
            return
        if rating >= 4 and r() < 0.006:
            when += 3 * DAY + int(r() * 20 * DAY)
            self._post_feedback(when, feedback_id, 2, "Stopped working after a few weeks.")
            rating = 2
        removal = (0.1 if self.merchant else 0.4) if rating <= 2 else 0.005
        if r() < removal:
            if not self.merchant and rating <= 2:
                reason = "fulfilled_by_marketplace"
            else:
                reason = self._choice(_REMOVAL)
            removed = when + 2 * DAY + int(r() * 18 * DAY)
            self.push(
                removed, "feedback.removed", self.ctx, _K_FEEDBACK_REMOVED, feedback_id, reason
            )

    def _post_feedback(self, when: int, feedback_id: str, rating: int, comment: str) -> None:
        self.push(when, "feedback.posted", self.ctx, _K_FEEDBACK, feedback_id, rating, comment)

    def claim(self, filed: int, reason: str) -> None:
        r = self.r
        claim_id = f"AZ-{self.code:014d}"
        amount = _cents(self.total)
        self.push(filed, "claim.filed", self.ctx, _K_CLAIM, claim_id, reason, amount)
        if r() < 0.08:
            return  # still under investigation
        decided = filed + 2 * DAY + int(r() * 12 * DAY)
        outcome = _pick_weighted(r(), _CLAIM_OUTCOMES)
        if outcome == "refunded_by_seller":
            self.refund(decided - HOUR - int(r() * 20 * HOUR), self.total, "a_to_z_claim")
        elif outcome.startswith("granted"):
            self.refund(decided + 60 + int(r() * HOUR), self.total, "a_to_z_claim", "marketplace")
        self.push(decided, "claim.decided", self.ctx, _K_CLAIM_DECIDED, claim_id, outcome)

    def chargeback(self, filed: int, reason: str) -> None:
        r = self.r
        chargeback_id = f"dp_{(self.code * 0x9E3779B97F4A7C15) % 16**24:024x}"
        amount = _cents(self.total)
        self.push(filed, "chargeback.filed", self.ctx, _K_CHARGEBACK, chargeback_id, reason, amount)
        if r() < 0.12:
            return  # the card network has not ruled yet
        outcome = _pick_weighted(r(), _CHARGEBACK_OUTCOMES)
        decided = filed + 10 * DAY + int(r() * 35 * DAY)
        self.push(
            decided, "chargeback.decided", self.ctx, _K_CHARGEBACK_DECIDED, chargeback_id, outcome
        )

    def _message_id(self) -> str:
        self.messages += 1
        return f"MSG-{self.code:014d}-{self.messages}"

    def conversation(self, when: int, bodies: Sequence[str], chance: float = 1.0) -> None:
        """A buyer message, maybe a follow-up, and the seller's answers (or silence)."""
        r = self.r
        if r() >= chance:
            return
        p = self.profile
        body = self._choice(bodies)
        for turn in range(2):
            message_id = self._message_id()
            self.push(when, "message.received", self.ctx, _K_MESSAGE, message_id, body)
            answered: int | None = None
            if body in _THANKS and r() < 0.8:
                marked = when + 600 + int(r() * 8 * HOUR)
                self.push(
                    marked, "message.no_response_needed", self.ctx, _K_NO_RESPONSE, message_id
                )
                return
            if not self.quotas.message_miss.hit():
                if r() < p.message_fast:
                    answered = when + 120 + int(r() * 3300)
                else:
                    answered = when + HOUR + int(r() * 22.9 * HOUR)
            elif r() < 0.6:
                answered = when + DAY + 60 + int(r() * 4 * DAY)
            if answered is not None:
                reply_id = self._message_id()
                reply = self._choice(_REPLIES)
                self.push(answered, "message.sent", self.ctx, _K_MESSAGE, reply_id, reply)
            follow_up = 0.15 if answered is not None else 0.5
            if turn == 1 or r() >= follow_up:
                return
            when = (answered or when) + 2 * HOUR + int(r() * 3 * DAY)
            body = self._choice(_CLAIM if bodies is _WHERE or bodies is _REFUND else _THANKS)


def generate_events(
    *,
    orders: int,
    sellers: int | None = None,
    profiles: Sequence[SellerProfile] | None = None,
    days: int,
    seed: int,
    end: date,
    marketplace: str = "US",
    timezone: str | None = None,
    currency: str | None = None,
    id_prefix: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The events of `orders` orders placed over the `days` days ending with `end`, in time order.

    Sellers come from `profiles`, or else are `sellers` default sellers S-1001.. (10 if neither
    is given). Time zone and currency default to the marketplace's. Events after the end of the
    day `end` have not happened yet and are left out. Event ids are `id_prefix` (default
    "evt-<seed>-") plus a counter in emission order. The same arguments give the same events.
    """
    if orders < 0:
        raise ValueError("orders must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    if profiles is None:
        profiles = seller_profiles(10 if sellers is None else sellers, seed=seed)
    elif sellers is not None and sellers != len(profiles):
        raise ValueError("give either sellers or profiles, not a different number of each")
    if not profiles:
        raise ValueError("at least one seller profile is needed")
    names = [profile.seller for profile in profiles]
    if len(set(names)) != len(names):
        raise ValueError("seller names in profiles must be unique")
    if sum(max(profile.weight, 0.0) for profile in profiles) <= 0:
        raise ValueError("at least one seller profile needs a positive weight")
    zone_name = timezone or default_timezone(marketplace)
    try:
        tz = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {zone_name!r}") from exc
    ledger = _Ledger(
        orders=orders,
        profiles=profiles,
        days=days,
        seed=seed,
        end=end,
        marketplace=marketplace,
        tz=tz,
        currency=currency or default_currency(marketplace),
        id_prefix=f"evt-{seed}-" if id_prefix is None else id_prefix,
    )
    return ledger.events()


def generate_marketplaces_events(
    *,
    orders: int,
    marketplaces: Sequence[str],
    profiles: Sequence[SellerProfile],
    days: int,
    seed: int,
    end: date,
    first_share: float = 0.7,
    cross_border_every: int = 3,
) -> Iterator[dict[str, Any]]:
    """One ledger over several marketplaces (each in its default time zone and currency), in
    time order: the first takes `first_share` of the orders and every seller; the others share
    the rest equally, each with the head sellers (the first one per HEAD_EVERY) and every
    `cross_border_every`-th other seller, who then sell in two marketplaces. Event ids are
    "evt-<seed>-<code>-" plus a counter. With one marketplace: generate_events.
    """
    if not marketplaces:
        raise ValueError("name at least one marketplace")
    if len(set(marketplaces)) != len(marketplaces):
        raise ValueError("marketplaces must not repeat")
    if not 0 < first_share <= 1:
        raise ValueError("first_share must be above 0 and at most 1")
    if cross_border_every < 1:
        raise ValueError("cross_border_every must be at least 1")
    if len(marketplaces) == 1:
        first_share = 1.0
    others = len(marketplaces) - 1
    rest = orders - round(orders * first_share)
    head = max(1, round(len(profiles) / HEAD_EVERY))
    streams = []
    for index, code in enumerate(marketplaces):
        if index == 0:
            count, chosen = orders - rest, list(profiles)
        else:
            count = rest // others + (1 if index <= rest % others else 0)
            chosen = [
                p
                for i, p in enumerate(profiles)
                if i < head or (i - head) % cross_border_every == cross_border_every - 1
            ] or list(profiles[:1])
        streams.append(
            generate_events(
                orders=count,
                profiles=chosen,
                days=days,
                seed=seed + index,
                end=end,
                marketplace=code,
                id_prefix=f"evt-{seed}-{code}-",
            )
        )
    # Every stream is in time order, and UTC ISO-8601 times of one format sort as text.
    return heapq.merge(*streams, key=itemgetter("occurred_at"))


class BinaryWriter(Protocol):
    """Anything with a `write(bytes)`: a file opened "wb", sys.stdout.buffer, BytesIO."""

    def write(self, data: bytes, /) -> object: ...


def write_ndjson(events: Iterable[dict[str, Any]], stream: BinaryWriter) -> int:
    """Write events as NDJSON (one object per line) to a binary stream; the number written."""
    dumps = orjson.dumps
    count = 0
    batch: list[bytes] = []
    for event in events:
        batch.append(dumps(event))
        if len(batch) == 4096:
            count += len(batch)
            batch.append(b"")
            stream.write(b"\n".join(batch))
            batch = []
    if batch:
        count += len(batch)
        batch.append(b"")
        stream.write(b"\n".join(batch))
    return count
