"""The list behind every number of account health: exactly the orders (buyer messages) counted.

A list is worked out with the same pure code that maintains the counters (`order_memberships`),
from the orders projection and the defect rows (and the buyer-message rows for the contact
response rate), so its length is the number health shows: one query for the orders, one for
their defects (or messages), whatever the size of the window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from defectdesk.core.datacache import cached, shows_seller
from defectdesk.core.errors import BadRequest, FieldError
from defectdesk.defects.models import Defect
from defectdesk.defects.rules import DefectFact, with_appeal
from defectdesk.ledger.fold import fold_order
from defectdesk.ledger.ingest import load_order_events
from defectdesk.ledger.models import Order
from defectdesk.metrics.core import (
    CRR,
    DEN,
    DEN_MARKETPLACE,
    DEN_MERCHANT,
    KIND_PART,
    METRIC_CODE,
    METRIC_KIND,
    NUM,
    NUM_MARKETPLACE,
    NUM_MERCHANT,
    ODR,
    DayIntervals,
    Membership,
    OrderFacts,
    contains,
    message_facts,
    order_facts,
    order_memberships,
    window_days,
)
from defectdesk.metrics.health import Scope
from defectdesk.metrics.today import today_mark
from defectdesk.policy.profile import METRICS

PARTS = ("numerator", "denominator", "misses")
CHANNELS = ("merchant", "marketplace")
MERCHANT_ONLY = frozenset(
    {"pre_fulfillment_cancel_rate", "late_shipment_rate", "valid_tracking_rate"}
    | {"on_time_delivery_rate"}
)
LIST_CACHE_SECONDS = 3600
TODAY_CACHE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class ListSpec:
    """Which list: a metric's numerator, denominator or misses, maybe one component or channel."""

    metric: str
    part: str
    component: str = ""
    channel: str = ""
    lower_is_better: bool = True


@dataclass(frozen=True, slots=True)
class Listed:
    """One order (or buyer message) of a list, with the day that keys it in the window."""

    order_id: int
    order_ref: str
    key_day: date
    message_id: str = ""
    received_at: datetime | None = None
    answered_at: datetime | None = None


def _bad(field: str, message: str, detail: str) -> BadRequest:
    return BadRequest(detail, [FieldError(field, message)])


def default_part(scope: Scope, metric: str) -> str:
    """What a metric's list shows unless told: its numerator, or its misses where higher is
    better."""
    return "numerator" if scope.policy.metrics[metric].condition == "lt" else "misses"


def list_spec(
    scope: Scope,
    metric: str,
    part: str | None = None,
    component: str | None = None,
    channel: str | None = None,
) -> ListSpec:
    """The list asked for, or a refusal naming the parameter that is wrong."""
    if metric not in METRICS:
        raise _bad(
            "metric", f"unknown metric {metric!r}; known: {', '.join(METRICS)}", "Unknown metric."
        )
    spec = scope.policy.metrics[metric]
    part = part or default_part(scope, metric)
    if part not in PARTS:
        raise _bad("part", f"must be one of {', '.join(PARTS)}, not {part!r}", "Unknown part.")
    if part == "misses" and spec.condition == "lt":
        raise _bad(
            "part",
            "misses are listed for metrics where higher is better; here the numerator is what "
            "counts against the seller",
            "No misses for this metric.",
        )
    component = component or ""
    channel = channel or ""
    if component:
        kinds = scope.policy.metrics["order_defect_rate"].kinds
        if metric != "order_defect_rate":
            raise _bad("component", "only the Order Defect Rate has components", "No components.")
        if component not in kinds:
            raise _bad(
                "component",
                f"must be one of {', '.join(kinds)}, not {component!r}",
                "Unknown component.",
            )
        if part != "numerator":
            raise _bad(
                "component",
                "a component is a count of defective orders: use part=numerator",
                "Bad component.",
            )
        if channel:
            raise _bad("channel", "give a component or a channel, not both", "Bad channel.")
    if channel:
        if metric != "order_defect_rate":
            raise _bad(
                "channel",
                "only the Order Defect Rate is split by fulfilment channel",
                "No channels.",
            )
        if channel not in CHANNELS:
            raise _bad(
                "channel",
                f"must be one of {', '.join(CHANNELS)}, not {channel!r}",
                "Unknown channel.",
            )
    return ListSpec(metric, part, component, channel, spec.condition == "lt")


def list_number(spec: ListSpec, health: dict[str, Any]) -> int:
    """The number of the health JSON that the list is the list of."""
    item = health["metrics"][spec.metric]
    if spec.component:
        return int(item["components"][spec.component])
    if spec.channel:
        item = item["by_fulfillment"][spec.channel]
    if spec.part == "misses":
        return int(item["denominator"]) - int(item["numerator"])
    return int(item[spec.part])


def _parts(spec: ListSpec) -> tuple[int, int | None]:
    """The counter part of the list, and for misses the part subtracted from it."""
    if spec.component:
        return KIND_PART[spec.component], None
    if spec.part == "misses":
        return DEN, NUM
    if spec.channel == "merchant":
        return (NUM_MERCHANT if spec.part == "numerator" else DEN_MERCHANT), None
    if spec.channel == "marketplace":
        return (NUM_MARKETPLACE if spec.part == "numerator" else DEN_MARKETPLACE), None
    return (NUM if spec.part == "numerator" else DEN), None


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def defect_fact_of(row: dict[str, Any]) -> DefectFact:
    """A defect row as the pure core's fact (its ledger intervals, an approved appeal's cut)."""
    intervals = tuple(
        (start, _aware(end))
        for start, end in ((_aware(s), e) for s, e in row["ledger_intervals"] or [])
        if start is not None
    )
    fact = DefectFact(
        kind=row["kind"],
        source_key=row["source_key"],
        opened_at=_aware(row["opened_at"]) or datetime.min.replace(tzinfo=UTC),
        intervals=intervals,
        removal_cause=row["removal_cause"] or "",
    )
    return with_appeal(fact, _aware(row["appeal_removed_at"]))


ORDER_FIELDS = (
    "id",
    "order_ref",
    "placed_at",
    "fulfillment",
    "ship_by",
    "deliver_by",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
)
DEFECT_FIELDS = (
    "order_id",
    "kind",
    "source_key",
    "opened_at",
    "ledger_intervals",
    "removal_cause",
    "appeal_removed_at",
)


def order_facts_of(row: dict[str, Any]) -> OrderFacts:
    """An orders-projection row as the pure core's facts."""
    shipped, cancelled = row["shipped_at"], row["cancelled_at"]
    return OrderFacts(
        placed_at=row["placed_at"],
        fulfillment=row["fulfillment"],
        ship_by=row["ship_by"],
        deliver_by=row["deliver_by"],
        shipped_at=shipped,
        delivered_at=row["delivered_at"],
        cancelled_at=cancelled,
        cancelled_before_shipment=cancelled is not None
        and (shipped is None or cancelled < shipped),
    )


def list_kinds(scope: Scope, spec: ListSpec) -> tuple[str, ...]:
    code = METRIC_CODE[spec.metric]
    if spec.component:
        return (spec.component,)
    if code == ODR:
        return scope.policy.metrics[spec.metric].kinds
    kind = METRIC_KIND.get(code)
    return (kind,) if kind else ()


def _compute(scope: Scope, spec: ListSpec, day: date) -> list[Listed]:
    now = timezone.now()
    lo, hi = window_days(scope.policy, spec.metric, day)
    code = METRIC_CODE[spec.metric]
    tz = scope.marketplace_tz
    want, minus = _parts(spec)
    d, lo_o, hi_o = day.toordinal(), lo.toordinal(), hi.toordinal()
    if code == CRR:
        return _messages(scope, spec, day)
    orders = Order.objects.filter(
        seller_id=scope.seller.id,
        marketplace_id=scope.marketplace.id,
        order_date__gte=lo,
        order_date__lte=hi,
    )
    if spec.metric in MERCHANT_ONLY:
        orders = orders.filter(fulfillment="merchant")
    if spec.channel:
        orders = orders.filter(fulfillment=spec.channel)
    if spec.part == "misses" or (spec.part == "numerator" and spec.lower_is_better):
        # Only an order with a defect of the metric's kinds can be in these lists.
        orders = orders.filter(
            Exists(Defect.objects.filter(order_id=OuterRef("pk"), kind__in=list_kinds(scope, spec)))
        )
    rows = list(orders.values(*ORDER_FIELDS))
    defects: dict[int, list[DefectFact]] = defaultdict(list)
    if rows:
        found = Defect.objects.filter(
            seller_id=scope.seller.id,
            marketplace_id=scope.marketplace.id,
            order__order_date__gte=lo,
            order__order_date__lte=hi,
        ).values(*DEFECT_FIELDS)
        for row in found:
            defects[row["order_id"]].append(defect_fact_of(row))
    out: list[Listed] = []
    for row in rows:
        memberships = order_memberships(
            order_facts_of(row), defects.get(row["id"], []), [], tz, scope.policy, cutoff=now
        )
        out.extend(
            _members(memberships, code, want, minus, (lo_o, hi_o, d), row["id"], row["order_ref"])
        )
    out.sort(key=lambda x: (-x.key_day.toordinal(), x.order_ref, x.message_id))
    return out


def _members(
    memberships: list[Membership],
    code: int,
    want: int,
    minus: int | None,
    days_of: tuple[int, int, int],
    order_id: int,
    order_ref: str,
) -> list[Listed]:
    """The order's (or its messages') entries in the list as of day d with key days in
    [lo, hi]."""
    lo, hi, d = days_of
    parts: dict[tuple[str, int], dict[int, DayIntervals]] = defaultdict(dict)
    for m in memberships:
        if m.metric == code and m.part in (want, minus) and lo <= m.key_day <= hi:
            parts[(m.subject, m.key_day)][m.part] = m.days
    out = []
    for (subject, key), found in parts.items():
        if not contains(found.get(want, []), d):
            continue
        if minus is not None and contains(found.get(minus, []), d):
            continue
        out.append(Listed(order_id, order_ref, date.fromordinal(key), subject))
    return out


def _messages(scope: Scope, spec: ListSpec, day: date) -> list[Listed]:
    """The contact response rate's buyer messages: their orders folded from the ledger, since
    the answer that counts is the first seller message after each one."""
    now = timezone.now()  # exact for every day up to today (DESIGN §4)
    lo, hi = window_days(scope.policy, spec.metric, day)
    want, minus = _parts(spec)
    ids = scope.received_message_orders(lo, hi)
    if not ids:
        return []
    events = load_order_events({(scope.marketplace.id, ref) for ref in ids})
    tz = scope.marketplace_tz
    out: list[Listed] = []
    window = (lo.toordinal(), hi.toordinal(), day.toordinal())
    for (_, ref), evs in events.items():
        state = fold_order(scope.marketplace.code, ref, evs)
        if not state.is_placed or ref not in ids:
            continue
        memberships = order_memberships(
            order_facts(state), [], message_facts(state), tz, scope.policy, cutoff=now
        )
        facts = {m.message_id: m for m in message_facts(state)}
        for item in _members(memberships, CRR, want, minus, window, ids[ref], ref):
            m = facts[item.message_id]
            out.append(replace(item, received_at=m.received_at, answered_at=m.answered_at))
    out.sort(key=lambda x: (-x.key_day.toordinal(), x.order_ref, x.message_id))
    return out


def listed(scope: Scope, spec: ListSpec, day: date) -> list[Listed]:
    """Every order (buyer message) of the list as of `day`, newest order date first."""
    today = day >= scope.today
    seconds = TODAY_CACHE_SECONDS if today else LIST_CACHE_SECONDS
    # Today's list changes as each of today's pending instants passes, like today's numbers.
    mark = today_mark(scope.marketplace, scope.policy, scope.seller.pk) if today else None
    return cached(
        "metrics:list",
        shows_seller(scope.seller.pk),
        (scope.marketplace.pk, spec, day, mark),
        lambda: _compute(scope, spec, day),
        seconds,
    )
