"""Policy jobs: the recompute of a marketplace after its defect rules changed."""

from __future__ import annotations

from datetime import timedelta

from defectdesk.core.jobs import job
from defectdesk.policy.actions import policy_replay_run


@job(max_attempts=3, backoff=timedelta(minutes=1), lease=timedelta(hours=2))
def policy_replay_job(replay_id: int) -> int:
    """Recompute one marketplace's defects and counters under its new policy."""
    return policy_replay_run(replay_id)
