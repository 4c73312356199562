"""Changing a marketplace's policy: validate, store, and recompute what depends on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.bulk import is_postgres
from defectdesk.core.errors import ValidationFailed
from defectdesk.ledger.ingest import ingest_lock
from defectdesk.ledger.models import Event, Marketplace, Order
from defectdesk.ledger.projection import pipeline
from defectdesk.ledger.rebuild import orders_replay
from defectdesk.policy.models import MarketplacePolicy, PolicyReplay
from defectdesk.policy.profile import policy_from_profile, profile_complete, profile_errors
from defectdesk.policy.selectors import policy_for

ORDERS_PER_BATCH = 5000


def policy_set(
    *, marketplace: Marketplace, profile: dict[str, Any], actor: Actor, replay_later: bool = False
) -> MarketplacePolicy:
    """Store a marketplace's policy (a partial profile is merged onto the default).

    Saving the policy in force again changes nothing (no new version, no audit row). A profile
    with any problem is refused as a whole (422, each problem naming its field) and
    the old policy stays. When the defect rules change, the marketplace's defects and counters
    are recomputed from the ledger: in the same transaction (the CLI), or with `replay_later` by
    a job queued when the transaction commits (`policy_replay_latest` shows its progress).
    Windows and targets are read at query time, so the history reflects them at once.
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
        if not created and row.profile == complete:
            return row  # the policy in force, saved again: no new version, nothing to audit
        if not created:
            row.profile = complete
            row.version += 1
            row.updated_at = timezone.now()
            row.save(update_fields=["profile", "version", "updated_at"])
        recomputed = old.rules_key() != new.rules_key()
        note = ""
        if recomputed and replay_later:
            replay = _replay_queue(marketplace, row.version, actor)
            note = f"defects and metrics to be recomputed by replay {replay.pk}"
        elif recomputed:
            marketplace_replay(marketplace.id)
            note = "recomputed defects and metrics"
        audit_record(
            actor=actor,
            action="policy_set",
            object_type="marketplace_policy",
            object_id=marketplace.code,
            from_state=f"v{row.version - 1}" if not created else "",
            to_state=f"v{row.version}",
            note=note,
            data={"profile": complete},
        )
    return row


def _replay_queue(marketplace: Marketplace, version: int, actor: Actor) -> PolicyReplay:
    """A replay row, and its job enqueued once the policy is committed."""
    replay = PolicyReplay.objects.create(
        marketplace=marketplace,
        policy_version=version,
        orders_total=Order.objects.filter(marketplace=marketplace).count(),
        requested_by_label=actor.label[:200],
        requested_at=timezone.now(),
    )
    transaction.on_commit(lambda: _replay_enqueue(replay.pk))
    return replay


def _replay_enqueue(replay_id: int) -> None:
    from defectdesk.policy.jobs import policy_replay_job

    policy_replay_job.enqueue(replay_id)


def policy_replay_run(replay_id: int) -> int:
    """Run a queued replay (the job): recompute the marketplace's defects and counters under the
    policy in force, in one transaction, so pages show the old figures until the new are all
    there. Progress is written beside it as it goes; returns the number of orders replayed.

    A replay superseded by a later policy change of the same marketplace does nothing: the
    later one recomputes under the later policy.
    """
    replay = PolicyReplay.objects.get(pk=replay_id)
    if replay.status in (PolicyReplay.Status.DONE, PolicyReplay.Status.SUPERSEDED):
        return replay.orders_done
    own = PolicyReplay.objects.filter(pk=replay_id)
    if PolicyReplay.objects.filter(marketplace_id=replay.marketplace_id, pk__gt=replay_id).exists():
        own.update(status=PolicyReplay.Status.SUPERSEDED, finished_at=timezone.now())
        return 0
    own.update(
        status=PolicyReplay.Status.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        orders_done=0,
        # What the replay counts: every order with an event, placed or not.
        orders_total=Event.objects.filter(marketplace_id=replay.marketplace_id)
        .values("order_ref")
        .distinct()
        .count(),
        error="",
    )
    progress = ReplayProgress(replay_id)
    try:
        with transaction.atomic():
            ingest_lock()
            done = marketplace_replay(replay.marketplace_id, progress)
            own.update(
                status=PolicyReplay.Status.DONE, orders_done=done, finished_at=timezone.now()
            )
    except Exception as exc:
        own.update(
            status=PolicyReplay.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    finally:
        progress.close()
    return done


class ReplayProgress:
    """Writes a running replay's count of orders where the policy page reads it.

    The replay runs in one long transaction, whose own writes nobody sees before it commits; on
    PostgreSQL the count is written through a second connection, committed at once. SQLite has
    one writer at a time (the replay), so there the page shows the count when the replay ends.
    """

    def __init__(self, replay_id: int) -> None:
        self.replay_id = replay_id
        self.side = connections.create_connection(DEFAULT_DB_ALIAS) if is_postgres() else None

    def __call__(self, orders: int) -> None:
        if self.side is None:
            return
        table = PolicyReplay._meta.db_table
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET orders_done = %s WHERE id = %s",  # noqa: S608 # nosec B608 # the model's own table name; values are parameters
                [orders, self.replay_id],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def marketplace_replay(marketplace_id: int, progress: Callable[[int], None] | None = None) -> int:
    """Reset one marketplace's projections and refold its orders, in the caller's transaction."""
    for projector in pipeline().projectors:
        projector.reset_marketplace(marketplace_id)
    return orders_replay(marketplace_id, progress)
