"""The job registry: retry policies of queued jobs and the periodic jobs the scheduler runs.

Apps declare their jobs in `<app>/jobs.py` (imported by `jobs_autodiscover`) or register them in
their AppConfig.ready():

    @periodic("deliver outbox", every=timedelta(minutes=1))
    def outbox_deliver() -> None: ...

`periodic` and `job` return a django-tasks Task, so `outbox_deliver.enqueue()` also works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar, overload

from django.utils.module_loading import autodiscover_modules
from django_tasks import task as task_decorator
from django_tasks.base import Task

from defectdesk.core.jobs.policy import RetryPolicy

DEFAULT_POLICY = RetryPolicy()
PERIODIC_DEFAULT_POLICY = RetryPolicy(max_attempts=3, backoff=timedelta(seconds=20))

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """A job the scheduler enqueues once per period of length `every`."""

    name: str
    every: timedelta
    task: Task[Any, Any]
    offset: timedelta = field(default=timedelta(0))


_policies: dict[str, RetryPolicy] = {}
_periodic: dict[str, PeriodicJob] = {}
_discovered = False


def _policy_from(
    default: RetryPolicy,
    max_attempts: int | None,
    backoff: timedelta | None,
    backoff_max: timedelta | None,
    lease: timedelta | None,
) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=default.max_attempts if max_attempts is None else max_attempts,
        backoff=default.backoff if backoff is None else backoff,
        backoff_max=default.backoff_max if backoff_max is None else backoff_max,
        lease=default.lease if lease is None else lease,
    )


def _as_task(
    func: Callable[..., Any] | Task[Any, Any], priority: int, queue_name: str
) -> Task[Any, Any]:
    if isinstance(func, Task):
        return func
    return task_decorator(priority=priority, queue_name=queue_name)(func)


@overload
def job(func: Callable[..., T], /) -> Task[Any, T]: ...


@overload
def job(
    *,
    max_attempts: int | None = None,
    backoff: timedelta | None = None,
    backoff_max: timedelta | None = None,
    lease: timedelta | None = None,
    priority: int = 0,
    queue_name: str = "default",
) -> Callable[[Callable[..., T]], Task[Any, T]]: ...


def job(
    func: Callable[..., Any] | None = None,
    /,
    *,
    max_attempts: int | None = None,
    backoff: timedelta | None = None,
    backoff_max: timedelta | None = None,
    lease: timedelta | None = None,
    priority: int = 0,
    queue_name: str = "default",
) -> Any:
    """Declare a queued job (a django-tasks Task) with its retry policy."""

    def wrap(f: Callable[..., Any] | Task[Any, Any]) -> Task[Any, Any]:
        t = _as_task(f, priority, queue_name)
        _policies[t.module_path] = _policy_from(
            DEFAULT_POLICY, max_attempts, backoff, backoff_max, lease
        )
        return t

    return wrap(func) if func is not None else wrap


def periodic(
    name: str,
    *,
    every: timedelta,
    offset: timedelta = timedelta(0),
    max_attempts: int | None = None,
    backoff: timedelta | None = None,
    backoff_max: timedelta | None = None,
    lease: timedelta | None = None,
    priority: int = 0,
    queue_name: str = "default",
) -> Callable[[Callable[..., Any] | Task[Any, Any]], Task[Any, Any]]:
    """Run the decorated function once per period of `every` (at epoch + offset + k * every)."""
    if not name or len(name) > 100:
        raise ValueError("a periodic job needs a name of 1 to 100 characters")
    if every < timedelta(seconds=1):
        raise ValueError(f"periodic job {name!r}: every must be at least one second")
    if not timedelta(0) <= offset < every:
        raise ValueError(f"periodic job {name!r}: offset must lie in [0, every)")

    def wrap(f: Callable[..., Any] | Task[Any, Any]) -> Task[Any, Any]:
        t = _as_task(f, priority, queue_name)
        existing = _periodic.get(name)
        if existing is not None and existing.task.module_path != t.module_path:
            raise ValueError(
                f"periodic job {name!r} is already registered by {existing.task.module_path}"
            )
        _policies[t.module_path] = _policy_from(
            PERIODIC_DEFAULT_POLICY, max_attempts, backoff, backoff_max, lease
        )
        _periodic[name] = PeriodicJob(name=name, every=every, task=t, offset=offset)
        return t

    return wrap


def jobs_autodiscover() -> None:
    """Import every installed app's `jobs` module, so that its jobs are registered."""
    global _discovered
    if not _discovered:
        autodiscover_modules("jobs")
        _discovered = True


def periodic_jobs() -> list[PeriodicJob]:
    """Every registered periodic job, by name."""
    jobs_autodiscover()
    return [_periodic[name] for name in sorted(_periodic)]


def retry_policy(task_path: str) -> RetryPolicy:
    """The retry policy of the job at `task_path` (the default for plain django-tasks Tasks)."""
    return _policies.get(task_path, DEFAULT_POLICY)
