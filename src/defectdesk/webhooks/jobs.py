"""The webhook delivery job: after each commit (kicked), at each retry time, and each minute."""

from __future__ import annotations

from datetime import timedelta

from defectdesk.core.jobs import periodic
from defectdesk.webhooks.delivery import webhooks_deliver, webhooks_prune


@periodic("deliver webhooks", every=timedelta(minutes=1))
def webhooks_deliver_job() -> dict[str, int]:
    """Post whatever webhook deliveries are due."""
    return webhooks_deliver()


@periodic("prune webhook log", every=timedelta(days=1), offset=timedelta(hours=3, minutes=10))
def webhooks_prune_job() -> int:
    """Forget webhook events delivered (or given up) more than 30 days ago."""
    return webhooks_prune()
