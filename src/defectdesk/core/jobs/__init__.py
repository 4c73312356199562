"""Background jobs on Django's tasks API: declaration, retries, scheduling and recovery."""

from defectdesk.core.jobs.policy import RetryPolicy, slot_start
from defectdesk.core.jobs.registry import (
    PeriodicJob,
    job,
    jobs_autodiscover,
    periodic,
    periodic_jobs,
    retry_policy,
)

__all__ = [
    "PeriodicJob",
    "RetryPolicy",
    "job",
    "jobs_autodiscover",
    "periodic",
    "periodic_jobs",
    "retry_policy",
    "slot_start",
]
