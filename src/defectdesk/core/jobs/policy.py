"""Pure job arithmetic: retry backoff and scheduler slots (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing job is tried, how long it waits between tries, and its lease."""

    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(hours=1)
    # A job running longer than this on a worker that stopped sending heartbeats is lost.
    lease: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff < timedelta(0) or self.backoff_max < timedelta(0):
            raise ValueError("backoff must not be negative")
        if self.lease <= timedelta(0):
            raise ValueError("lease must be positive")

    def delay(self, attempt: int) -> timedelta:
        """The wait before the try after `attempt` (1-based): backoff doubled each time, capped."""
        if attempt < 1:
            raise ValueError("attempt is 1-based")
        # Cap the exponent so the multiplication never overflows timedelta.
        factor = 2 ** min(attempt - 1, 40)
        return min(self.backoff * factor, self.backoff_max)

    def gives_up_after(self, attempt: int) -> bool:
        """Whether a failure of `attempt` is final."""
        return attempt >= self.max_attempts


def slot_start(now: datetime, every: timedelta, offset: timedelta = timedelta(0)) -> datetime:
    """The start of the period of length `every`, counted from the epoch plus `offset`, at now."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware time")
    if every <= timedelta(0):
        raise ValueError("every must be positive")
    origin = EPOCH + offset
    periods = (now - origin) // every
    return (origin + periods * every).astimezone(UTC)
