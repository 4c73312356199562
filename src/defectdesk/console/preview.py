"""How many sellers a policy change would move between healthy and at risk, before saving.

The preview runs the very action that saving runs (`policy_set`, which recomputes history
when the defect rules change) inside a transaction that is always rolled back, and compares
every seller's account status as of today before and after. Nothing of it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from defectdesk.accounts.models import Seller
from defectdesk.console.health import account_statuses, marketplace_today
from defectdesk.core.actors import Actor
from defectdesk.ledger.models import Marketplace
from defectdesk.policy.actions import policy_set


@dataclass(slots=True)
class StatusChanges:
    as_of: date
    to_at_risk: list[str] = field(default_factory=list)
    to_healthy: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.to_at_risk) + len(self.to_healthy)


def status_changes(before: dict[int, str], after: dict[int, str], as_of: date) -> StatusChanges:
    """Which sellers change account status (a seller missing from a side is healthy)."""
    changes = StatusChanges(as_of=as_of)
    moved = {
        seller_id: after.get(seller_id, "healthy")
        for seller_id in set(before) | set(after)
        if before.get(seller_id, "healthy") != after.get(seller_id, "healthy")
    }
    names = dict(Seller.objects.filter(pk__in=list(moved)).values_list("pk", "external_id"))
    for seller_id, status in sorted(moved.items(), key=lambda item: names.get(item[0], "")):
        target = changes.to_at_risk if status == "at_risk" else changes.to_healthy
        target.append(names.get(seller_id, str(seller_id)))
    return changes


class _Rollback(Exception):
    pass


def policy_preview(
    *, marketplace: Marketplace, profile: dict[str, Any], actor: Actor
) -> StatusChanges:
    """The sellers whose status today would change; raises ValidationFailed like saving does."""
    as_of = marketplace_today(marketplace)
    before = account_statuses(marketplace, as_of)
    result: StatusChanges | None = None
    try:
        with transaction.atomic():
            policy_set(marketplace=marketplace, profile=profile, actor=actor)
            result = status_changes(before, account_statuses(marketplace, as_of), as_of)
            raise _Rollback
    except _Rollback:
        pass
    assert result is not None
    return result
