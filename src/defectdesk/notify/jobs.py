"""The outbox delivery job: after each commit (kicked) and once a minute (the backstop)."""

from __future__ import annotations

from datetime import timedelta

from defectdesk.core.jobs import periodic
from defectdesk.notify.actions import outbox_deliver


@periodic("deliver outbox", every=timedelta(minutes=1))
def outbox_deliver_job() -> dict[str, int]:
    """Deliver whatever is due in the outbox."""
    return outbox_deliver()
