"""The pure calculation core of account health (DESIGN §4); no ORM, no database.

As of day D a metric's numerator and denominator are sums over orders (buyer messages for the
contact response rate) of memberships that are functions of D: an order is in a part of a
metric while D lies in some day intervals (e.g. the late shipment numerator from the day
`ship_by` passes). A membership is turned into change points (key day, change day, ±1), where
the key day is the order date (the message date); the value of a part as of D for window
[a, b] is the sum of the deltas with key day in [a, b] and change day <= D.

Days are proleptic ordinals (`date.toordinal()`) of calendar days in the marketplace's zone.
An event at instant t is visible as of D exactly when t < end of D, i.e. local_date(t) <= D.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from defectdesk.defects.rules import DefectFact
from defectdesk.ledger.fold import OrderState
from defectdesk.policy.kinds import DEFECT_KINDS
from defectdesk.policy.metrics import METRIC_DEFS, MetricCode, Part
from defectdesk.policy.profile import METRICS, Policy

INF = 10**7  # a day ordinal after every real day ("never")
DayIntervals = list[tuple[int, int]]

# The stored codes (policy/metrics.py), as plain ints: they key every hot-path aggregate.
METRIC_CODE = {name: int(m.code) for name, m in METRIC_DEFS.items()}
ODR = int(MetricCode.ORDER_DEFECT_RATE)
CANCEL = int(MetricCode.PRE_FULFILLMENT_CANCEL_RATE)
LSR = int(MetricCode.LATE_SHIPMENT_RATE)
VTR = int(MetricCode.VALID_TRACKING_RATE)
OTDR = int(MetricCode.ON_TIME_DELIVERY_RATE)
REFUND = int(MetricCode.REFUND_RATE)
CRR = int(MetricCode.CONTACT_RESPONSE_RATE)

DEN, NUM = int(Part.DENOMINATOR), int(Part.NUMERATOR)
DEN_MERCHANT, NUM_MERCHANT = int(Part.DENOMINATOR_MERCHANT), int(Part.NUMERATOR_MERCHANT)
DEN_MARKETPLACE, NUM_MARKETPLACE = (
    int(Part.DENOMINATOR_MARKETPLACE),
    int(Part.NUMERATOR_MARKETPLACE),
)
KIND_PART = {code: kind.counter_part for code, kind in DEFECT_KINDS.items()}

# The defect kind that makes an order fail each metric but the ODR (the ODR: the policy's kinds).
METRIC_KIND = {
    METRIC_CODE[kind.metric]: code
    for code, kind in DEFECT_KINDS.items()
    if METRIC_CODE[kind.metric] != ODR
}


# Days of recently seen instants: an order's times come up again and again while its
# memberships are worked out. Emptied when full: a batch's worth is what pays.
_DAYS: dict[tuple[datetime, ZoneInfo], int] = {}
_DAYS_HELD = 100_000


def day_of(moment: datetime, tz: ZoneInfo) -> int:
    """The first day as of which an event at `moment` is visible (its local date)."""
    key = (moment, tz)
    day = _DAYS.get(key)
    if day is None:
        if len(_DAYS) >= _DAYS_HELD:
            _DAYS.clear()
        day = _DAYS[key] = moment.astimezone(tz).date().toordinal()
    return day


def day_reached(moment: datetime, tz: ZoneInfo) -> int:
    """The first day D with `moment` <= end of D (an age condition "at least ... at the end")."""
    return (moment - timedelta(microseconds=1)).astimezone(tz).date().toordinal()


# --- day interval sets: sorted, disjoint [lo, hi) lists -------------------------------------


def normalize(intervals: Iterable[tuple[int, int]]) -> DayIntervals:
    out: DayIntervals = []
    for lo, hi in sorted(i for i in intervals if i[0] < i[1]):
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def intersect(a: DayIntervals, b: DayIntervals) -> DayIntervals:
    out: DayIntervals = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: DayIntervals, b: DayIntervals) -> DayIntervals:
    out: DayIntervals = []
    for lo, hi in a:
        cur = lo
        for blo, bhi in b:
            if bhi <= cur or blo >= hi:
                continue
            if blo > cur:
                out.append((cur, blo))
            cur = max(cur, bhi)
            if cur >= hi:
                break
        if cur < hi:
            out.append((cur, hi))
    return out


def contains(intervals: DayIntervals, day: int) -> bool:
    return any(lo <= day < hi for lo, hi in intervals)


def fact_days(fact: DefectFact, tz: ZoneInfo, cutoff: datetime | None = None) -> DayIntervals:
    """The days as of which a defect is active (seen from `cutoff`, see `day_functions`)."""
    seen = day_functions(tz, cutoff)[0]
    return normalize((seen(s), INF if e is None else seen(e)) for s, e in fact.intervals)


DayFunction = Callable[[datetime], int]


def day_functions(tz: ZoneInfo, cutoff: datetime | None) -> tuple[DayFunction, DayFunction]:
    """`day_of` and `day_reached` as seen at `cutoff` (DESIGN §4 "Today is not over").

    An instant at or after the cut-off has not happened yet: if it falls on the cut-off's own
    day it counts from the next day. Days before the cut-off's day are never affected, and as
    of the cut-off's day the memberships are those at the cut-off itself. None: no cut-off.
    """
    if cutoff is None:
        return (lambda t: day_of(t, tz)), (lambda t: day_reached(t, tz))
    today = day_of(cutoff, tz)

    def seen(t: datetime) -> int:
        d = day_of(t, tz)
        return today + 1 if d == today and t >= cutoff else d

    def reached(t: datetime) -> int:
        d = day_reached(t, tz)
        return today + 1 if d == today and t > cutoff else d

    return seen, reached


# --- what an order is, for the metrics ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """The facts of an order the metrics read (from a folded state or an orders-projection row)."""

    placed_at: datetime
    fulfillment: str | None
    ship_by: datetime | None
    deliver_by: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    cancelled_before_shipment: bool


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """A buyer message, the first seller message after it, and its no-response-needed mark."""

    message_id: str
    received_at: datetime
    answered_at: datetime | None
    no_response_needed_at: datetime | None


def order_facts(state: OrderState) -> OrderFacts:
    assert state.placed_at is not None
    return OrderFacts(
        state.placed_at,
        state.fulfillment,
        state.ship_by,
        state.deliver_by,
        state.shipped_at,
        state.delivered_at,
        state.cancelled_at,
        state.cancelled_before_shipment,
    )


def message_facts(state: OrderState) -> list[MessageFacts]:
    """The order's buyer messages (the order is the thread)."""
    sent = sorted(m.at for m in state.messages.values() if m.direction == "sent" and m.at)
    out = []
    for m in state.messages.values():
        if m.direction != "received" or m.at is None:
            continue
        answer = next((t for t in sent if t > m.at), None)
        out.append(MessageFacts(m.message_id, m.at, answer, m.no_response_needed_at))
    return out


class Membership(NamedTuple):
    """The days as of which one order (or message) is in one part of one metric."""

    metric: int
    part: int
    key_day: int
    days: DayIntervals
    subject: str = ""  # the message id for the contact response rate, else ""


# Parts every order is in from its order date on, whatever happens to it: the same before and
# after any event, so an update of an order already counted can leave them out.
STATIC_PARTS = frozenset(
    {(ODR, DEN), (ODR, DEN_MERCHANT), (ODR, DEN_MARKETPLACE), (REFUND, DEN), (CANCEL, DEN)}
)


def _after(day: int) -> DayIntervals:
    return [(day, INF)]


def order_memberships(
    order: OrderFacts,
    defects: Sequence[DefectFact],
    messages: Sequence[MessageFacts],
    tz: ZoneInfo,
    policy: Policy,
    *,
    static: bool = True,
    cutoff: datetime | None = None,
) -> list[Membership]:
    """Every part of every metric this order (and its buyer messages) is in, and when.

    With static=False the STATIC_PARTS are left out (for updating an order already counted).
    With a cutoff, instants from it on have not happened yet (see `day_functions`): the
    memberships are exact as of every day up to the cut-off's day.
    """
    seen, reached_day = day_functions(tz, cutoff)
    key = seen(order.placed_at)
    by_kind: dict[str, DayIntervals] = defaultdict(list)
    for fact in defects:
        by_kind[fact.kind].extend(fact_days(fact, tz, cutoff))
    active = {kind: normalize(days) for kind, days in by_kind.items()}
    out: list[Membership] = []

    def add(metric: int, part: int, days: DayIntervals, k: int = key, subject: str = "") -> None:
        if days and (static or (metric, part) not in STATIC_PARTS):
            out.append(Membership(metric, part, k, days, subject))

    everyone = _after(key)
    merchant = order.fulfillment == "merchant"
    # Order defect rate: every order; one count however many defects.
    odr_kinds = policy.metrics["order_defect_rate"].kinds
    odr_days = normalize(d for kind in odr_kinds for d in active.get(kind, []))
    add(ODR, DEN, everyone)
    add(ODR, NUM, odr_days)
    for kind in odr_kinds:
        add(ODR, KIND_PART[kind], active.get(kind, []))
    if order.fulfillment in ("merchant", "marketplace"):
        den_part, num_part = (
            (DEN_MERCHANT, NUM_MERCHANT) if merchant else (DEN_MARKETPLACE, NUM_MARKETPLACE)
        )
        add(ODR, den_part, everyone)
        add(ODR, num_part, odr_days)
    # Refund rate: every order.
    add(REFUND, DEN, everyone)
    add(REFUND, NUM, intersect(active.get(METRIC_KIND[REFUND], []), everyone))
    if merchant:
        add(CANCEL, DEN, everyone)
        add(CANCEL, NUM, intersect(active.get(METRIC_KIND[CANCEL], []), everyone))
        shipped = _after(seen(order.shipped_at)) if order.shipped_at else []
        if order.ship_by is not None:
            den = normalize(shipped + _after(seen(order.ship_by)))
            if order.cancelled_before_shipment and order.cancelled_at is not None:
                den = subtract(den, _after(seen(order.cancelled_at)))
            add(LSR, DEN, den)
            add(LSR, NUM, intersect(active.get(METRIC_KIND[LSR], []), den))
        vtr_num = subtract(shipped, active.get(METRIC_KIND[VTR], []))
        add(VTR, DEN, shipped)
        add(VTR, NUM, vtr_num)
        if order.deliver_by is not None:
            reached = _after(seen(order.deliver_by))
            if order.delivered_at is not None:
                reached = normalize(reached + _after(seen(order.delivered_at)))
            den = intersect(vtr_num, reached)
            add(OTDR, DEN, den)
            add(OTDR, NUM, subtract(den, active.get(METRIC_KIND[OTDR], [])))
    hours = timedelta(hours=policy.metrics["contact_response_rate"].response_hours)
    for m in messages:
        mkey = seen(m.received_at)
        aged = reached_day(m.received_at + hours)
        fast = m.answered_at is not None and m.answered_at - m.received_at <= hours
        start = min(aged, seen(m.answered_at)) if m.answered_at is not None else aged
        den = _after(max(start, mkey))
        if m.no_response_needed_at is not None:
            den = subtract(den, _after(seen(m.no_response_needed_at)))
        add(CRR, DEN, den, mkey, m.message_id)
        if fast and m.answered_at is not None:
            add(CRR, NUM, intersect(den, _after(seen(m.answered_at))), mkey, m.message_id)
    return out


Contribution = tuple[int, int, int, int]  # metric, part, key day, change day


def membership_deltas(
    memberships: Iterable[Membership], sign: int, into: dict[Contribution, int]
) -> None:
    """Add the change points of memberships (times `sign`) into an aggregate."""
    for m in memberships:
        for lo, hi in m.days:
            k = (m.metric, m.part, m.key_day, lo)
            into[k] = into.get(k, 0) + sign
            if hi < INF:
                k = (m.metric, m.part, m.key_day, hi)
                into[k] = into.get(k, 0) - sign


# --- health from part sums -----------------------------------------------------------------------


def window_days(policy: Policy, metric: str, as_of: date) -> tuple[date, date]:
    spec = policy.metrics[metric]
    to = as_of - timedelta(days=spec.lag_days)
    return to - timedelta(days=spec.window_days - 1), to


def rate_of(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


@dataclass(slots=True)
class HealthSums:
    """Part sums of every metric as of one day: sums[metric code][part] -> count."""

    sums: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def get(self, metric: int, part: int) -> int:
        return self.sums.get(metric, {}).get(part, 0)


def health_json(
    seller: str, marketplace: str, as_of: date, sums: HealthSums, policy: Policy
) -> dict[str, object]:
    """The health JSON of DESIGN §4."""
    metrics: dict[str, object] = {}
    bad = False
    for name in METRICS:
        code = METRIC_CODE[name]
        spec = policy.metrics[name]
        num, den = sums.get(code, NUM), sums.get(code, DEN)
        rate = rate_of(num, den)
        status = spec.status(rate)
        bad = bad or status == "bad"
        lo, hi = window_days(policy, name, as_of)
        item: dict[str, object] = {
            "rate": rate,
            "numerator": num,
            "denominator": den,
            "status": status,
            "target": {"value": spec.target, "condition": spec.condition},
            "window": {"from": lo.isoformat(), "to": hi.isoformat()},
        }
        if code == ODR:
            item["components"] = {kind: sums.get(code, KIND_PART[kind]) for kind in spec.kinds}
            item["by_fulfillment"] = {
                channel: {
                    "rate": rate_of(sums.get(code, n), sums.get(code, d)),
                    "numerator": sums.get(code, n),
                    "denominator": sums.get(code, d),
                }
                for channel, d, n in (
                    ("merchant", DEN_MERCHANT, NUM_MERCHANT),
                    ("marketplace", DEN_MARKETPLACE, NUM_MARKETPLACE),
                )
            }
        metrics[name] = item
    return {
        "seller": seller,
        "marketplace": marketplace,
        "as_of": as_of.isoformat(),
        "account_status": "at_risk" if bad else "healthy",
        "metrics": metrics,
    }


def history_from_rows(
    rows: Iterable[tuple[int, int, int, int]],
    spec_window: int,
    spec_lag: int,
    first: int,
    last: int,
) -> dict[int, list[int]]:
    """Daily part sums over [first, last] from (part, key day, change day, delta) rows.

    A row counts as of D when D >= change day and its key day lies in [D-G-L+1, D-G], i.e. for
    D in [max(change, key+G), key+G+L-1]: a difference array per part, O(rows + days).
    """
    size = last - first + 2
    diffs: dict[int, list[int]] = {}
    for part, key, change, delta in rows:
        lo = max(change, key + spec_lag, first)
        hi = min(key + spec_lag + spec_window - 1, last)
        if lo > hi or delta == 0:
            continue
        arr = diffs.get(part)
        if arr is None:
            arr = diffs[part] = [0] * size
        arr[lo - first] += delta
        arr[hi - first + 1] -= delta
    out: dict[int, list[int]] = {}
    for part, arr in diffs.items():
        running, values = 0, []
        for i in range(size - 1):
            running += arr[i]
            values.append(running)
        out[part] = values
    return out
