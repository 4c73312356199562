"""The defects of an order as a pure function of its folded state and the policy (DESIGN §3).

Every defect carries the moments it is active as the ledger alone says: a list of half-open
intervals [start, end) of event time. "Active as of a cutoff E" (E = the end of a day) means
start < E <= end: the event that opens it has happened before E and the one that closes it
has not. An approved appeal cuts the intervals at its moment (see `with_appeal`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from defectdesk.ledger.fold import Dispute, OrderState
from defectdesk.policy.kinds import DEFECT_KINDS
from defectdesk.policy.profile import Policy

Interval = tuple[datetime, datetime | None]


@dataclass(frozen=True, slots=True)
class DefectFact:
    kind: str
    source_key: str
    opened_at: datetime
    intervals: tuple[Interval, ...]
    removal_cause: str = ""  # "event" | "rule" | "appeal" | "" while active
    removal_detail: str = ""
    source_event_ids: tuple[str, ...] = ()

    @property
    def removed_at(self) -> datetime | None:
        return self.intervals[-1][1] if self.intervals else None

    @property
    def is_active(self) -> bool:
        return bool(self.intervals) and self.intervals[-1][1] is None


def _steps(changes: Iterable[tuple[datetime, bool]]) -> tuple[Interval, ...]:
    """Intervals from (moment, active after it) steps in moment order; empty ones are dropped."""
    out: list[Interval] = []
    start: datetime | None = None
    for moment, active in changes:
        if active and start is None:
            start = moment
        elif not active and start is not None:
            if moment > start:
                out.append((start, moment))
            start = None
    if start is not None:
        out.append((start, None))
    return tuple(out)


def _stepped_fact(
    kind: str,
    key: str,
    intervals: tuple[Interval, ...],
    cause: str,
    detail: str,
    event_ids: list[str],
) -> DefectFact:
    """A defect whose intervals came from its events' steps: open from the first interval's
    start, sourced from the events that have an id."""
    return DefectFact(
        kind, key, intervals[0][0], intervals, cause, detail, tuple(i for i in event_ids if i)
    )


def with_appeal(fact: DefectFact, appeal_removed_at: datetime | None) -> DefectFact:
    """The defect as an approved appeal (at that moment) leaves it: inactive from then on."""
    if appeal_removed_at is None:
        return fact
    cut: list[Interval] = []
    for s, e in fact.intervals:
        if s >= appeal_removed_at:
            continue
        end = appeal_removed_at if e is None or e > appeal_removed_at else e
        cut.append((s, end))
    if fact.is_active or (cut and cut[-1][1] == appeal_removed_at):
        return replace(
            fact, intervals=tuple(cut), removal_cause="appeal", removal_detail="an approved appeal"
        )
    return replace(fact, intervals=tuple(cut))


def _negative_feedback(state: OrderState, policy: Policy) -> list[DefectFact]:
    out = []
    worst = policy.defects.max_rating
    for fb in state.feedback.values():
        if not fb.postings:
            continue
        steps: list[tuple[datetime, bool]] = []
        for posting in fb.postings:
            if fb.removed_at is not None and posting.at >= fb.removed_at:
                break
            steps.append((posting.at, posting.rating <= worst))
        if fb.removed_at is not None:
            steps.append((fb.removed_at, False))
        intervals = _steps(steps)
        if not intervals:
            continue
        ids = [p.event_id for p in fb.postings]
        cause, detail = "", ""
        if intervals[-1][1] is not None:
            cause = "event"
            if fb.removed_at is not None and intervals[-1][1] == fb.removed_at:
                detail = f"feedback.removed ({fb.removed_reason or 'no reason given'})"
                ids.append(fb.removed_event_id or "")
            else:
                last = fb.postings[-1] if fb.removed_at is None else None
                detail = (
                    f"feedback replaced with rating {last.rating}"
                    if last
                    else "feedback replaced with a better rating"
                )
        out.append(
            _stepped_fact("negative_feedback", fb.feedback_id, intervals, cause, detail, ids)
        )
    return out


def _dispute(kind: str, dispute: Dispute, removing: frozenset[str]) -> DefectFact | None:
    if dispute.filed_at is None:
        return None
    moments = sorted({dispute.filed_at, *(d.at for d in dispute.decisions)})
    steps = []
    for moment in moments:
        outcome = None
        for decision in dispute.decisions:  # fold order: (occurred_at, event id)
            if decision.at <= moment:
                outcome = decision.outcome
        steps.append((moment, dispute.filed_at <= moment and outcome not in removing))
    intervals = _steps(steps)
    if not intervals:
        return None
    ids = [dispute.filed_event_id or "", *(d.event_id for d in dispute.decisions)]
    cause = detail = ""
    if intervals[-1][1] is not None:
        cause, detail = (
            "event",
            f"{kind.split('_')[0] if kind == 'chargeback' else 'claim'} decided {dispute.outcome}",
        )
    return _stepped_fact(kind, dispute.dispute_id, intervals, cause, detail, ids)


def _a_to_z_claim(state: OrderState, policy: Policy) -> list[DefectFact]:
    out = []
    for claim in state.claims.values():
        fact = _dispute("a_to_z_claim", claim, policy.defects.claim_removing_outcomes)
        if fact is not None:
            out.append(fact)
    return out


def _chargeback(state: OrderState, policy: Policy) -> list[DefectFact]:
    out = []
    for chargeback in state.chargebacks.values():
        rules = policy.defects
        if chargeback.reason not in rules.chargeback_service_reasons:
            continue
        fact = _dispute("chargeback", chargeback, rules.chargeback_removing_outcomes)
        if fact is not None:
            out.append(fact)
    return out


def _cancellation(state: OrderState, policy: Policy) -> list[DefectFact]:
    if not (
        state.fulfillment == "merchant"
        and state.cancelled_before_shipment
        and state.cancelled_by in policy.defects.cancel_requested_by
        and state.cancelled_at
    ):
        return []
    return [
        DefectFact(
            "cancellation",
            "",
            state.cancelled_at,
            ((state.cancelled_at, None),),
            source_event_ids=(state.cancel_event_id or "",),
        )
    ]


def _late_shipment(state: OrderState, policy: Policy) -> list[DefectFact]:
    ship_by = state.ship_by
    if state.fulfillment != "merchant" or ship_by is None:
        return []
    shipment = state.first_shipment
    if shipment is not None and shipment.at <= ship_by:
        return []
    ids = [state.placed_event_id or ""] + ([shipment.event_id] if shipment else [])
    if state.cancelled_before_shipment and state.cancelled_at is not None:
        if state.cancelled_at <= ship_by:
            return []
        return [
            DefectFact(
                "late_shipment",
                "",
                ship_by,
                ((ship_by, state.cancelled_at),),
                "rule",
                "cancelled before shipment: the order left the late shipment rate",
                (*ids, state.cancel_event_id or ""),
            )
        ]
    return [
        DefectFact("late_shipment", "", ship_by, ((ship_by, None),), source_event_ids=tuple(ids))
    ]


def _invalid_tracking(state: OrderState, policy: Policy) -> list[DefectFact]:
    shipment = state.first_shipment
    if state.fulfillment != "merchant" or shipment is None:
        return []
    untracked = not (shipment.tracking_number or "").strip()
    grace = timedelta(hours=policy.defects.scan_grace_hours)
    start = shipment.at if untracked else shipment.at + grace
    first_scan = state.first_scan_at
    if first_scan is not None and first_scan <= start:
        return []
    scan = state.scans[0] if state.scans else None
    return [
        DefectFact(
            "invalid_tracking",
            "",
            start,
            ((start, first_scan),),
            "event" if scan else "",
            f"carrier scan ({scan.status})" if scan else "",
            tuple(i for i in (shipment.event_id, scan.event_id if scan else "") if i),
        )
    ]


def _late_delivery(state: OrderState, policy: Policy) -> list[DefectFact]:
    deliver_by = state.deliver_by
    if (
        state.fulfillment != "merchant"
        or deliver_by is None
        or (state.cancelled_before_shipment and not state.shipments)
    ):
        return []
    if state.delivered_at is not None and state.delivered_at <= deliver_by:
        return []
    ids = [state.placed_event_id or ""]
    if state.delivered_event_id:
        ids.append(state.delivered_event_id)
    return [
        DefectFact(
            "late_delivery", "", deliver_by, ((deliver_by, None),), source_event_ids=tuple(ids)
        )
    ]


def _refund(state: OrderState, policy: Policy) -> list[DefectFact]:
    if not state.refunds:
        return []
    refund = state.refunds[0]
    return [
        DefectFact(
            "refund", "", refund.at, ((refund.at, None),), source_event_ids=(refund.event_id,)
        )
    ]


Rule = Callable[[OrderState, Policy], list[DefectFact]]

# The rule of each kind declared in policy/kinds.py: the defects it gives a placed order.
RULES: dict[str, Rule] = {
    "negative_feedback": _negative_feedback,
    "a_to_z_claim": _a_to_z_claim,
    "chargeback": _chargeback,
    "cancellation": _cancellation,
    "late_shipment": _late_shipment,
    "invalid_tracking": _invalid_tracking,
    "late_delivery": _late_delivery,
    "refund": _refund,
}


def defect_facts(state: OrderState, policy: Policy) -> list[DefectFact]:
    """Every defect the ledger gives this placed order, with its active intervals."""
    if state.placed_at is None:
        return []
    facts: list[DefectFact] = []
    for rule in _rules_enabled(policy.defects.enabled):
        found = rule(state, policy)
        if found:
            facts.extend(found)
    return facts


# The enabled rules in declaration order, by the policy's `enabled` map (few distinct maps:
# one per marketplace policy, so this is worked out once per policy, not once per order).
_ENABLED: dict[int, tuple[dict[str, bool], tuple[Rule, ...]]] = {}


def _rules_enabled(enabled: dict[str, bool]) -> tuple[Rule, ...]:
    known = _ENABLED.get(id(enabled))
    if known is not None and known[0] is enabled:
        return known[1]
    if len(_ENABLED) > 64:
        _ENABLED.clear()
    rules = tuple(RULES[kind] for kind in DEFECT_KINDS if enabled.get(kind, True))
    _ENABLED[id(enabled)] = (enabled, rules)
    return rules
