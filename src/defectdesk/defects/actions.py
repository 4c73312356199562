"""State changes to defects that do not come from the ledger: removal by an approved appeal."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from defectdesk.accounts.models import Seller
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.timeutil import zone
from defectdesk.defects.announce import defect_data, defect_rows
from defectdesk.defects.models import Defect
from defectdesk.defects.projection import orders_mark_problems, problem_since
from defectdesk.ledger.fold import fold_order
from defectdesk.ledger.ingest import ingest_lock, load_order_events
from defectdesk.ledger.models import Marketplace, Order
from defectdesk.ledger.projection import MarketplaceRef, OrderChange, PendingOrder, pipeline
from defectdesk.webhooks.outbox import webhook_emit


def defect_remove_by_appeal(
    *, defect: Defect, appeal_id: int, at: datetime, actor: Actor
) -> Defect:
    """Remove a defect because an appeal was approved, as of `at`; health changes at once.

    Kept across rebuilds (appeals are not ledger events). Projectors that hold aggregates of the
    order (the metric counters) take its old contribution back and add the new one in the same
    transaction. Removing a defect already removed by an appeal changes nothing.
    """
    with transaction.atomic():
        # Ingestion's lock for the seller first, then the row: the order ingestion takes them.
        ingest_lock([Seller.objects.values_list("external_id", flat=True).get(pk=defect.seller_id)])
        locked = Defect.objects.select_for_update().get(pk=defect.pk)
        if locked.appeal_removed_at is not None:
            return locked
        order = Order.objects.get(pk=locked.order_id)
        market = Marketplace.objects.get(pk=locked.marketplace_id)
        ref = MarketplaceRef(market.id, market.code, zone(market.timezone), market.currency)
        events = load_order_events({(market.id, order.order_ref)}).get(
            (market.id, order.order_ref), []
        )
        state = fold_order(market.code, order.order_ref, events)
        change = OrderChange(order.id, order.seller_id, ref, None, state)
        pending = [PendingOrder(order.id, ref, None, state)]
        projection = pipeline()
        if state.is_placed:
            facts = projection.facts(pending)
            for projector in projection.projectors:
                projector.retract([change], facts)
        from_state = locked.status
        locked.appeal_removed_at = at
        locked.removed_by_appeal_id = appeal_id
        locked.status = Defect.Status.REMOVED
        locked.removed_at = (
            at if locked.removed_at is None or locked.removed_at > at else locked.removed_at
        )
        locked.removal_cause = Defect.RemovalCause.APPEAL
        locked.removal_detail = f"appeal {appeal_id} approved"
        locked.save(
            update_fields=[
                "appeal_removed_at",
                "removed_by_appeal_id",
                "status",
                "removed_at",
                "removal_cause",
                "removal_detail",
            ]
        )
        if state.is_placed:
            # The facts again, now with the appeal's cut; the order's problem mark follows.
            facts = projection.facts(pending)
            for projector in projection.projectors:
                projector.apply([change], facts)
            orders_mark_problems([(order.id, problem_since(facts.of(change)[0]))])
        locked.refresh_from_db()
        if from_state == Defect.Status.ACTIVE:
            row = defect_rows([locked.order_id])[(locked.order_id, locked.kind, locked.source_key)]
            webhook_emit("defect.removed", defect_data(row), seller_id=locked.seller_id)
        audit_record(
            actor=actor,
            action="defect_remove_by_appeal",
            object_type="defect",
            object_id=locked.pk,
            seller_id=locked.seller_id,
            from_state=from_state,
            to_state=locked.status,
            note=f"appeal {appeal_id} approved",
            data={"appeal": appeal_id, "at": at.isoformat(), "kind": locked.kind},
        )
    return locked
