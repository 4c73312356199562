"""Record account status through the day, so a change is announced soon after it happens."""

from __future__ import annotations

from datetime import timedelta

from defectdesk.core.datacache import data_changes_fold
from defectdesk.core.jobs import periodic
from defectdesk.metrics.status import account_status_record


@periodic("record account status", every=timedelta(hours=1))
def account_status_record_job() -> dict[str, int]:
    """Record today's account status of every seller (announcing changes)."""
    return account_status_record()


@periodic("fold data versions", every=timedelta(minutes=5))
def data_changes_fold_job() -> dict[str, int]:
    """Fold each seller's data change rows into one, which keeps reading a version short."""
    return {"sellers": data_changes_fold()}
