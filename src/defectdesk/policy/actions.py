"""Changing a marketplace's policy: validate, store, and recompute what depends on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import ValidationFailed
from defectdesk.ledger.ingest import ingest_lock
from defectdesk.ledger.models import Marketplace
from defectdesk.ledger.projection import pipeline
from defectdesk.ledger.rebuild import orders_replay
from defectdesk.policy.models import MarketplacePolicy
from defectdesk.policy.profile import policy_from_profile, profile_complete, profile_errors
from defectdesk.policy.selectors import policy_for

ORDERS_PER_BATCH = 5000


def policy_set(
    *, marketplace: Marketplace, profile: dict[str, Any], actor: Actor
) -> MarketplacePolicy:
    """Store a marketplace's policy (a partial profile is merged onto the default).

    A profile with any problem is refused as a whole (422, each problem naming its field) and
    the old policy stays. When the defect rules change, the marketplace's defects and counters
    are recomputed from the ledger in the same transaction; windows and targets are read at
    query time, so the history reflects them at once.
    """
    if not isinstance(profile, dict):
        raise ValidationFailed("The policy is not valid.", profile_errors(profile))
    complete = profile_complete(profile)
    errors = profile_errors(complete)
    if errors:
        raise ValidationFailed("The policy is not valid; the previous policy is kept.", errors)
    new = policy_from_profile(complete)
    with transaction.atomic():
        ingest_lock()
        old = policy_for(marketplace.id)
        row, created = MarketplacePolicy.objects.select_for_update().get_or_create(
            marketplace=marketplace,
            defaults={"profile": complete, "updated_at": timezone.now()},
        )
        if not created:
            row.profile = complete
            row.version += 1
            row.updated_at = timezone.now()
            row.save(update_fields=["profile", "version", "updated_at"])
        recomputed = old.rules_key() != new.rules_key()
        if recomputed:
            marketplace_replay(marketplace.id)
        audit_record(
            actor=actor,
            action="policy_set",
            object_type="marketplace_policy",
            object_id=marketplace.code,
            from_state=f"v{row.version - 1}" if not created else "",
            to_state=f"v{row.version}",
            note="recomputed defects and metrics" if recomputed else "",
            data={"profile": complete},
        )
    return row


def marketplace_replay(marketplace_id: int, progress: Callable[[int], None] | None = None) -> int:
    """Reset one marketplace's projections and refold its orders, in the caller's transaction."""
    for projector in pipeline().projectors:
        projector.reset_marketplace(marketplace_id)
    return orders_replay(marketplace_id, progress)
