"""Reads of appeals and defects that encode who may see them, and the filing window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import QuerySet

from defectdesk.accounts.roles import Who, principal_of
from defectdesk.appeals.models import Appeal, AppealFile
from defectdesk.appeals.policy import appeal_rules_for
from defectdesk.appeals.rules_policy import AppealRules
from defectdesk.appeals.transitions import OPEN_STATUSES, REVIEW_STATUSES
from defectdesk.core.errors import NotFound, one_or_not_found
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.ledger.fold import LedgerEvent, OrderState, fold_order
from defectdesk.ledger.models import Event
from defectdesk.ledger.selectors import order_events


def appeals_visible_to(who: Who) -> QuerySet[Appeal]:
    """Every appeal for marketplace staff; a merchant's own sellers' appeals otherwise."""
    qs = Appeal.objects.select_related(
        "defect", "defect__order", "seller", "marketplace", "assigned_to"
    )
    return principal_of(who).seller_scoped(qs)


def appeal_for(who: Who, appeal_id: int) -> Appeal:
    """One visible appeal; unknown and foreign appeals are both NotFound (404)."""
    return one_or_not_found(appeals_visible_to(who), appeal_id, f"Appeal {appeal_id} not found.")


def appeal_file_for(who: Who, appeal_id: int, file_id: int) -> AppealFile:
    """One supporting file of a visible appeal (404 otherwise)."""
    appeal = appeal_for(who, appeal_id)
    found = AppealFile.objects.filter(appeal=appeal, pk=file_id).first()
    if found is None:
        raise NotFound(f"File {file_id} not found on appeal {appeal_id}.")
    return found


def defect_for_appeal(who: Who, defect_id: int) -> Defect:
    """A defect the principal may see (404 for an unknown or foreign one)."""
    qs = Defect.objects.select_related("order", "seller", "marketplace")
    return one_or_not_found(
        principal_of(who).seller_scoped(qs), defect_id, f"Defect {defect_id} not found."
    )


def open_appeal_for_defect(defect: Defect) -> Appeal | None:
    """The defect's open appeal (draft, submitted, in review or awaiting information), if any."""
    return Appeal.objects.filter(defect=defect, status__in=sorted(OPEN_STATUSES)).first()


def review_queue(who: Who) -> QuerySet[Appeal]:
    """Appeals awaiting a reviewer, soonest review deadline first (reviewers only)."""
    if not principal_of(who).is_reviewer:
        # Merchants are not told that the queue exists (DESIGN §1: foreign objects answer 404).
        raise NotFound("Not found.")
    return (
        appeals_visible_to(who)
        .filter(status__in=sorted(REVIEW_STATUSES))
        .order_by("review_due_at", "id")
    )


def appeals_left(defect: Defect) -> tuple[int, int]:
    """How many more appeals of this defect may be submitted, and the most allowed."""
    most = appeal_rules_for(defect.marketplace_id).max_appeals_per_defect
    used = Appeal.objects.filter(defect=defect, submitted_at__isnull=False).count()
    return max(most - used, 0), most


def appeal_history(appeal: Appeal) -> QuerySet[AuditEvent]:
    """The appeal's audit events, oldest first."""
    return AuditEvent.objects.filter(object_type="appeal", object_id=str(appeal.pk)).order_by(
        "occurred_at", "id"
    )


def _seller_funded_decisions(defects: list[Defect]) -> dict[int, datetime]:
    """For claim defects whose latest decision is granted_seller_funded: that decision's time."""
    by_market: dict[int, list[Defect]] = {}
    for defect in defects:
        if defect.kind == Defect.Kind.A_TO_Z_CLAIM:
            by_market.setdefault(defect.marketplace_id, []).append(defect)
    found: dict[int, datetime] = {}
    for market_id, claims in by_market.items():
        refs = sorted({d.order.order_ref for d in claims})
        rows = (
            Event.objects.filter(marketplace_id=market_id, order_ref__in=refs, type="claim.decided")
            .order_by("occurred_at", "event_id")
            .values_list("order_ref", "occurred_at", "data")
        )
        # The latest decision by event time wins (DESIGN §3).
        latest: dict[tuple[str, str], tuple[datetime, str]] = {}
        for ref, occurred, data in rows:
            latest[(ref, str(data.get("claim_id")))] = (occurred, str(data.get("outcome")))
        for defect in claims:
            hit = latest.get((defect.order.order_ref, defect.source_key))
            if hit is not None and hit[1] == "granted_seller_funded":
                found[defect.pk] = hit[0]
    return found


def appealable_until_many(
    defects: Iterable[Defect], rules: dict[int, AppealRules] | None = None
) -> dict[int, datetime | None]:
    """The end of the filing window of each defect (None once it is removed); set-based."""
    items = list(defects)
    rules = dict(rules or {})
    for market_id in {d.marketplace_id for d in items} - set(rules):
        rules[market_id] = appeal_rules_for(market_id)
    decided = _seller_funded_decisions([d for d in items if d.status == Defect.Status.ACTIVE])
    result: dict[int, datetime | None] = {}
    for defect in items:
        if defect.status != Defect.Status.ACTIVE:
            result[defect.pk] = None
            continue
        policy = rules[defect.marketplace_id]
        if defect.pk in decided:
            days = policy.seller_funded_claim_window_days
            result[defect.pk] = decided[defect.pk] + timedelta(days=days)
        else:
            result[defect.pk] = defect.opened_at + policy.window_for(defect.kind)
    return result


def appealable_until(defect: Defect) -> datetime | None:
    """When the defect's filing window closes (DESIGN §6); None once the defect is removed."""
    return appealable_until_many([defect])[defect.pk]


def order_state_of(defect: Defect) -> tuple[OrderState, list[LedgerEvent]]:
    """The defect's order folded from the ledger, with its events."""
    order = defect.order
    rows = order_events(order).select_related("seller")
    events = [
        LedgerEvent(e.event_id, e.type, e.occurred_at, e.seller.external_id, e.data) for e in rows
    ]
    return fold_order(order.marketplace.code, order.order_ref, events), events
