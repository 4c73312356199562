"""Periodic appeal jobs: expire unanswered information requests, flag overdue reviews."""

from __future__ import annotations

from datetime import timedelta

from defectdesk.appeals.actions import appeals_expire_due, appeals_flag_overdue
from defectdesk.core.jobs import periodic


@periodic("expire information requests", every=timedelta(minutes=5))
def info_requests_expire_job() -> int:
    """Deny as expired every appeal whose information request is past its deadline."""
    return appeals_expire_due()


@periodic("flag overdue reviews", every=timedelta(minutes=15))
def reviews_flag_overdue_job() -> int:
    """Flag appeals past their review deadline and tell the reviewers."""
    return appeals_flag_overdue()
