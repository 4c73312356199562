"""The rows of one page of a metric's list: each order with its defects and their standing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from defectdesk.accounts.roles import Principal
from defectdesk.appeals.standing import Standing, defect_standings
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Order
from defectdesk.metrics.core import contains, fact_days
from defectdesk.metrics.health import Scope
from defectdesk.metrics.lists import Listed, ListSpec, defect_fact_of, list_kinds


@dataclass(frozen=True, slots=True)
class DefectRow:
    defect: Defect
    active: bool  # as of the day of the list
    standing: Standing


@dataclass(frozen=True, slots=True)
class ListRow:
    """One order (or buyer message) of a list as a page shows it."""

    order_ref: str
    order_date: date
    fulfillment: str
    order_status: str
    message_id: str = ""
    received_at: datetime | None = None
    answered_at: datetime | None = None
    defects: list[DefectRow] = field(default_factory=list)


def _fact_row(d: Defect) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "source_key": d.source_key,
        "opened_at": d.opened_at,
        "ledger_intervals": d.ledger_intervals,
        "removal_cause": d.removal_cause,
        "appeal_removed_at": d.appeal_removed_at,
    }


def list_rows(
    principal: Principal,
    scope: Scope,
    spec: ListSpec,
    day: date,
    items: Sequence[Listed],
    now: datetime,
) -> list[ListRow]:
    """The page's rows in three queries: their orders, their defects, those defects' appeals."""
    ids = sorted({i.order_id for i in items})
    orders: dict[int, dict[str, Any]] = {
        o["id"]: dict(o)
        for o in Order.objects.filter(id__in=ids).values(
            "id", "order_date", "fulfillment", "status"
        )
    }
    defects: dict[int, list[Defect]] = defaultdict(list)
    found = list(
        Defect.objects.filter(order_id__in=ids, kind__in=list_kinds(scope, spec))
        .select_related("order")
        .order_by("opened_at", "id")
    )
    for d in found:
        defects[d.order_id].append(d)
    standings = defect_standings(principal, found, now)
    tz, ordinal = scope.marketplace_tz, day.toordinal()
    out = []
    for item in items:
        order = orders.get(item.order_id, {})
        out.append(
            ListRow(
                order_ref=item.order_ref,
                order_date=order.get("order_date", item.key_day),
                fulfillment=order.get("fulfillment") or "",
                order_status=order.get("status", ""),
                message_id=item.message_id,
                received_at=item.received_at,
                answered_at=item.answered_at,
                defects=[
                    DefectRow(
                        d,
                        contains(fact_days(defect_fact_of(_fact_row(d)), tz), ordinal),
                        standings[d.pk],
                    )
                    for d in defects.get(item.order_id, [])
                ],
            )
        )
    return out
