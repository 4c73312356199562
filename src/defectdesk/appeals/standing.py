"""Where each defect stands for an appeal: its filing window, its open appeal, whether the
viewer may file one now; and the defects a seller can still appeal, soonest deadline first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from defectdesk.accounts.models import Seller
from defectdesk.accounts.roles import Principal
from defectdesk.appeals.models import Appeal
from defectdesk.appeals.policy import appeal_rules_for
from defectdesk.appeals.selectors import appealable_until_many
from defectdesk.appeals.transitions import OPEN_STATUSES
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Marketplace

# Why a defect cannot be appealed now ("" when it can, or when an appeal is open).
REMOVED, NOT_YET, CLOSED, USED_UP, READ_ONLY = (
    "removed",
    "not_yet",
    "closed",
    "used_up",
    "read_only",
)


@dataclass(frozen=True, slots=True)
class Standing:
    """A defect's filing window, its open appeal, and whether the viewer may appeal it now."""

    appealable_until: datetime | None
    open_appeal_id: int | None
    open_appeal_status: str
    can_appeal: bool
    blocked: str


def defect_standings(
    principal: Principal, defects: Iterable[Defect], now: datetime
) -> dict[int, Standing]:
    """The standing of each defect (loaded with its order), in a few queries for them all."""
    items = list(defects)
    if not items:
        return {}
    until = appealable_until_many(items)
    ids = [d.pk for d in items]
    open_appeals: dict[int, tuple[int, str]] = {}
    for pk, defect_id, status in (
        Appeal.objects.filter(defect_id__in=ids, status__in=OPEN_STATUSES)
        .order_by("created_at", "id")
        .values_list("id", "defect_id", "status")
    ):
        open_appeals.setdefault(defect_id, (pk, status))
    used = dict(
        Appeal.objects.filter(defect_id__in=ids, submitted_at__isnull=False)
        .values("defect_id")
        .annotate(n=Count("id"))
        .values_list("defect_id", "n")
    )
    rules = {m: appeal_rules_for(m) for m in {d.marketplace_id for d in items}}
    out = {}
    for defect in items:
        closes = until.get(defect.pk)
        opened = open_appeals.get(defect.pk)
        blocked = ""
        if defect.status != Defect.Status.ACTIVE:
            blocked = REMOVED
        elif defect.opened_at > now:
            blocked = NOT_YET
        elif opened is not None:
            blocked = ""
        elif closes is not None and now > closes:
            blocked = CLOSED
        elif used.get(defect.pk, 0) >= rules[defect.marketplace_id].max_appeals_per_defect:
            blocked = USED_UP
        elif not principal.may_write_seller(defect.seller_id):
            blocked = READ_ONLY
        out[defect.pk] = Standing(
            appealable_until=closes,
            open_appeal_id=opened[0] if opened else None,
            open_appeal_status=opened[1] if opened else "",
            can_appeal=not blocked and opened is None,
            blocked=blocked,
        )
    return out


def appealable_defects(
    principal: Principal, seller: Seller, marketplace: Marketplace, now: datetime
) -> list[tuple[Defect, Standing]]:
    """Active defects of the seller whose filing window is still open, soonest deadline first."""
    rules = appeal_rules_for(marketplace.pk)
    longest = max([rules.fallback_window_days, *rules.filing_window_days.values()])
    # A claim's window can restart at a seller-funded decision, long after it opened.
    candidates = list(
        Defect.objects.filter(
            seller_id=seller.pk,
            marketplace_id=marketplace.pk,
            status=Defect.Status.ACTIVE,
            opened_at__lte=now,
        )
        .filter(Q(kind=Defect.Kind.A_TO_Z_CLAIM) | Q(opened_at__gte=now - timedelta(days=longest)))
        .select_related("order")
    )
    standings = defect_standings(principal, candidates, now)
    found = [
        (d, standings[d.pk])
        for d in candidates
        if (until := standings[d.pk].appealable_until) is not None and now <= until
    ]
    found.sort(key=lambda pair: (pair[1].appealable_until, pair[0].order.order_ref, pair[0].pk))
    return found
