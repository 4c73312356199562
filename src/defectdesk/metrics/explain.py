"""Why a metric is what it is: the orders behind it, what changed between two days, the outlook.

Explanations recompute the memberships of the few orders that matter with the same pure code
that maintains the counters, so they add up to exactly what health shows. For a metric where
lower is better the orders listed are its numerator; where higher is better (valid tracking,
on-time delivery, contact response) they are the ones that miss: the denominator minus the
numerator. Either way these are the orders "counted against" the seller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from defectdesk.core.language import in_sentence
from defectdesk.defects.models import Defect
from defectdesk.defects.projection import appeal_cuts, facts_with_appeals
from defectdesk.defects.rules import DefectFact, defect_facts
from defectdesk.ledger.fold import OrderState, fold_order
from defectdesk.ledger.ingest import load_order_events
from defectdesk.ledger.models import Order
from defectdesk.metrics.core import (
    CRR,
    DEN,
    METRIC_CODE,
    METRIC_KIND,
    NUM,
    ODR,
    contains,
    fact_days,
    message_facts,
    order_facts,
    order_memberships,
    rate_of,
    subtract,
    window_days,
)
from defectdesk.metrics.counters import TABLE
from defectdesk.metrics.health import Scope, health_sums
from defectdesk.metrics.today import is_today, today_changes
from defectdesk.policy.profile import METRICS

OUTLOOK_DAYS = 30


@dataclass(frozen=True, slots=True)
class Counted:
    """One order (or buyer message) counted against a metric, with the facts behind it."""

    order_id: int
    order_ref: str
    subject: str  # the buyer message id for the contact response rate
    key_day: date
    days: list[tuple[int, int]]  # the days as of which it is counted
    defects: list[tuple[DefectFact, int | None]]  # the relevant defects and their row ids


def _metric_name(metric: str) -> str:
    from defectdesk.core.errors import BadRequest, FieldError

    if metric not in METRICS:
        raise BadRequest(
            "Unknown metric.",
            [FieldError("metric", f"unknown metric {metric!r}; known: {', '.join(METRICS)}")],
        )
    return metric


def lower_is_better(scope: Scope, metric: str) -> bool:
    return scope.policy.metrics[metric].condition == "lt"


def _kinds(scope: Scope, metric: str) -> tuple[str, ...]:
    code = METRIC_CODE[metric]
    if code == ODR:
        return scope.policy.metrics[metric].kinds
    kind = METRIC_KIND.get(code)
    return (kind,) if kind else ()


def _candidate_orders(scope: Scope, metric: str, key_from: date, key_to: date) -> list[int]:
    """Orders that can be counted against the metric for order (message) dates in the range."""
    if METRIC_CODE[metric] == CRR:
        # Buyer messages received in the range; their orders may be older.
        return list(scope.received_message_orders(key_from, key_to).values())
    return list(
        Defect.objects.filter(
            seller_id=scope.seller.id,
            marketplace_id=scope.marketplace.id,
            kind__in=_kinds(scope, metric),
            order__order_date__gte=key_from,
            order__order_date__lte=key_to,
        )
        .values_list("order_id", flat=True)
        .distinct()
    )


def counted_against(scope: Scope, metric: str, key_from: date, key_to: date) -> list[Counted]:
    """Everything that can be counted against `metric` for key days in the range, and when.

    The days are seen from the present moment (DESIGN §4 "Today is not over"): exact as of
    every day up to today, today included, like health.
    """
    code = METRIC_CODE[metric]
    now = timezone.now()
    order_ids = _candidate_orders(scope, metric, key_from, key_to)
    if not order_ids:
        return []
    orders = dict(Order.objects.filter(id__in=order_ids).values_list("id", "order_ref"))
    by_ref = {ref: pk for pk, ref in orders.items()}
    keys = {(scope.marketplace.id, ref) for ref in orders.values()}
    events = load_order_events(keys)
    cuts = appeal_cuts(list(orders))
    rows = {
        (o, k, s): pk
        for pk, o, k, s in Defect.objects.filter(order_id__in=list(orders)).values_list(
            "id", "order_id", "kind", "source_key"
        )
    }
    kinds = set(_kinds(scope, metric))
    tz = scope.marketplace_tz
    out: list[Counted] = []
    lower = lower_is_better(scope, metric)
    for (_market, ref), evs in events.items():
        state: OrderState = fold_order(scope.marketplace.code, ref, evs)
        if not state.is_placed:
            continue
        order_id = by_ref[ref]
        facts = facts_with_appeals(order_id, defect_facts(state, scope.policy), cuts)
        memberships = order_memberships(
            order_facts(state), facts, message_facts(state), tz, scope.policy, cutoff=now
        )
        by_subject: dict[tuple[str, int], dict[int, list[tuple[int, int]]]] = {}
        for m in memberships:
            if m.metric == code and m.part in (DEN, NUM):
                by_subject.setdefault((m.subject, m.key_day), {})[m.part] = m.days
        relevant = [
            (f, rows.get((order_id, f.kind, f.source_key))) for f in facts if f.kind in kinds
        ]
        for (subject, key), parts in by_subject.items():
            key_date = date.fromordinal(key)
            if not key_from <= key_date <= key_to:
                continue
            den, num = parts.get(DEN, []), parts.get(NUM, [])
            days = num if lower else subtract(den, num)
            if days:
                out.append(Counted(order_id, ref, subject, key_date, days, relevant))
    out.sort(key=lambda c: (c.key_day, c.order_ref, c.subject))
    return out


def _defect_json(fact: DefectFact, pk: int | None, scope: Scope, day: int) -> dict[str, Any]:
    tz = scope.marketplace_tz
    return {
        "id": pk,
        "kind": fact.kind,
        "source": fact.source_key or None,
        "opened_at": fact.opened_at.isoformat(),
        "active": contains(fact_days(fact, tz, timezone.now()), day),
        "removed_at": fact.removed_at.isoformat() if fact.removed_at else None,
        "removal_cause": fact.removal_cause or None,
    }


def _item(c: Counted, scope: Scope, metric: str, day: int) -> dict[str, Any]:
    spec = scope.policy.metrics[metric]
    leaves = c.key_day + timedelta(days=spec.lag_days + spec.window_days)
    item: dict[str, Any] = {"order": c.order_ref, "order_date": c.key_day.isoformat()}
    if c.subject:
        item = {"order": c.order_ref, "message": c.subject, "message_date": c.key_day.isoformat()}
    item["defects"] = [_defect_json(f, pk, scope, day) for f, pk in c.defects]
    item["leaves_window_on"] = leaves.isoformat()
    return item


def _summary(scope: Scope, metric: str, day: date) -> dict[str, Any]:
    sums = health_sums(scope.seller.id, scope.marketplace.id, day, scope.policy)
    code = METRIC_CODE[metric]
    num, den = sums.get(code, NUM), sums.get(code, DEN)
    rate = rate_of(num, den)
    lo, hi = window_days(scope.policy, metric, day)
    return {
        "date": day.isoformat(),
        "rate": rate,
        "numerator": num,
        "denominator": den,
        "status": scope.policy.metrics[metric].status(rate),
        "counted_against": num if lower_is_better(scope, metric) else den - num,
        "window": {"from": lo.isoformat(), "to": hi.isoformat()},
    }


def explain_day(scope: Scope, metric: str, day: date) -> dict[str, Any]:
    """The orders (and their defects) counted against a metric as of a day."""
    metric = _metric_name(metric)
    lo, hi = window_days(scope.policy, metric, day)
    d = day.toordinal()
    counted = [c for c in counted_against(scope, metric, lo, hi) if contains(c.days, d)]
    return {
        "seller": scope.seller.external_id,
        "marketplace": scope.marketplace.code,
        "metric": metric,
        "as_of": day.isoformat(),
        "counts": "numerator" if lower_is_better(scope, metric) else "denominator_minus_numerator",
        **{k: v for k, v in _summary(scope, metric, day).items() if k != "date"},
        "orders": [_item(c, scope, metric, d) for c in counted],
    }


def _reason(c: Counted, scope: Scope, metric: str, d1: int, d2: int, entering: bool) -> str:
    lo1, hi1 = window_days(scope.policy, metric, date.fromordinal(d1))
    lo2, hi2 = window_days(scope.policy, metric, date.fromordinal(d2))
    in1, in2 = lo1 <= c.key_day <= hi1, lo2 <= c.key_day <= hi2
    if in1 != in2:
        if c.subject:
            return (
                _("its message date entered the window")
                if in2
                else _("its message date left the window")
            )
        return (
            _("its order date entered the window") if in2 else _("its order date left the window")
        )
    tz, now = scope.marketplace_tz, timezone.now()
    opened = [
        _kind_text(f.kind)
        for f, _f in c.defects
        if not contains(fact_days(f, tz, now), d1) and contains(fact_days(f, tz, now), d2)
    ]
    removed = [
        f"{_kind_text(f.kind)} ({_cause_text(f.removal_cause)})"
        for f, _f in c.defects
        if contains(fact_days(f, tz, now), d1) and not contains(fact_days(f, tz, now), d2)
    ]
    if opened:
        return _("defect opened: %(kinds)s") % {"kinds": _(", ").join(opened)}
    if removed:
        return _("defect removed: %(kinds)s") % {"kinds": _(", ").join(removed)}
    return _("now counted") if entering else _("no longer counted")


def _kind_text(kind: str) -> str:
    from defectdesk.defects.models import Defect

    return in_sentence(Defect.Kind(kind).label) if kind in Defect.Kind.values else kind


def _cause_text(cause: str) -> str:
    causes = {
        "event": _("a later event"),
        "appeal": _("an approved appeal"),
        "rule": _("a policy rule"),
    }
    return causes.get(cause or "", _("removed"))


def explain_change(scope: Scope, metric: str, first: date, second: date) -> dict[str, Any]:
    """What moved a metric between two days: what entered and what left its count."""
    metric = _metric_name(metric)
    lo1, hi1 = window_days(scope.policy, metric, first)
    lo2, hi2 = window_days(scope.policy, metric, second)
    d1, d2 = first.toordinal(), second.toordinal()
    candidates = counted_against(scope, metric, min(lo1, lo2), max(hi1, hi2))
    entered, left = [], []
    for c in candidates:
        was = lo1 <= c.key_day <= hi1 and contains(c.days, d1)
        now = lo2 <= c.key_day <= hi2 and contains(c.days, d2)
        if now and not was:
            entered.append(
                {**_item(c, scope, metric, d2), "reason": _reason(c, scope, metric, d1, d2, True)}
            )
        elif was and not now:
            left.append(
                {**_item(c, scope, metric, d2), "reason": _reason(c, scope, metric, d1, d2, False)}
            )
    return {
        "seller": scope.seller.external_id,
        "marketplace": scope.marketplace.code,
        "metric": metric,
        "counts": "numerator" if lower_is_better(scope, metric) else "denominator_minus_numerator",
        "from": _summary(scope, metric, first),
        "to": _summary(scope, metric, second),
        "entered": entered,
        "left": left,
    }


def outlook(scope: Scope, metric: str, day: date) -> dict[str, Any]:
    """Each counted defect's last day in the window and the rate of the next 30 days.

    The projection assumes no new defect: it keeps every change known as of `day` and slides
    the window; order dates after `day` are assumed to bring as many orders a day as the
    current window averaged, none of them defective.
    """
    metric = _metric_name(metric)
    spec = scope.policy.metrics[metric]
    code = METRIC_CODE[metric]
    L, G = spec.window_days, spec.lag_days
    explained = explain_day(scope, metric, day)
    last = day + timedelta(days=OUTLOOK_DAYS)
    lo_key = day + timedelta(days=1) - timedelta(days=G + L - 1)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT part, key_day, SUM(delta) FROM {TABLE} "  # noqa: S608 # nosec B608 # table and column names are the models' own, values are parameters
            "WHERE seller_id = %s AND marketplace_id = %s AND metric = %s AND part IN (%s, %s) "
            "AND key_day BETWEEN %s AND %s AND change_day <= %s GROUP BY part, key_day",
            [scope.seller.id, scope.marketplace.id, code, DEN, NUM, lo_key, day, day],
        )
        per_key: dict[int, dict[date, int]] = {DEN: {}, NUM: {}}
        for part, key, total in cur.fetchall():
            k = key if isinstance(key, date) else date.fromisoformat(str(key))
            per_key[part][k] = int(total)
    now = timezone.now()
    if is_today(scope.marketplace, day, now):
        changes = today_changes(scope.marketplace, scope.policy, now, [scope.seller.id])
        for (m, part, key), delta in changes.get(scope.seller.id, {}).items():
            k = date.fromordinal(key)
            if m == code and part in per_key and lo_key <= k <= day:
                per_key[part][k] = per_key[part].get(k, 0) + delta
    current_den = explained["denominator"]
    daily = current_den / L
    lower = spec.condition == "lt"
    projection = []
    for i in range(1, OUTLOOK_DAYS + 1):
        d = day + timedelta(days=i)
        lo, hi = window_days(scope.policy, metric, d)
        num = sum(v for k, v in per_key[NUM].items() if lo <= k <= hi)
        den_known = sum(v for k, v in per_key[DEN].items() if lo <= k <= hi)
        unknown = max(0, min(L, (hi - day).days))
        den = den_known + daily * unknown
        if not lower:
            # Higher is better: the new orders assumed are good ones.
            num = num + daily * unknown
        rate = None if den == 0 else num / den
        projection.append(
            {
                "date": d.isoformat(),
                "rate": rate,
                "numerator": round(num),
                "denominator": round(den),
                "status": spec.status(rate),
            }
        )
    return {
        "seller": scope.seller.external_id,
        "marketplace": scope.marketplace.code,
        "metric": metric,
        "as_of": day.isoformat(),
        "rate": explained["rate"],
        "status": explained["status"],
        "defects": [
            {
                "order": o["order"],
                **({"message": o["message"]} if "message" in o else {}),
                "defects": [d for d in o["defects"] if d["active"]],
                "leaves_window_on": o["leaves_window_on"],
            }
            for o in explained["orders"]
        ],
        "projection": projection,
        "assumption": "no new defect; orders keep arriving at the current window's daily average",
        "until": last.isoformat(),
    }
