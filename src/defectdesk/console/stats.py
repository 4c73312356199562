"""Reviewer statistics: decisions per day, approval rates, time to decision, deadline breaches.

`review_stats` is pure (plain rows in, plain numbers out); `decision_rows` reads them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from defectdesk.appeals.models import Appeal
from defectdesk.appeals.reasons import reason_lookup
from defectdesk.appeals.transitions import DECIDED_STATUSES, Status


@dataclass(frozen=True, slots=True)
class DecisionRow:
    decided_by: str  # the reviewer's user name, or "rule:<name>" / "expired"
    cause: str  # "reviewer", "rule" or "expired"
    kind: str
    reason: str
    approved: bool
    submitted_at: datetime | None
    decided_at: datetime
    review_due_at: datetime | None


@dataclass(slots=True)
class Tally:
    decisions: int = 0
    approved: int = 0
    breaches: int = 0
    hours: list[float] = field(default_factory=list)

    def add(self, row: DecisionRow) -> None:
        self.decisions += 1
        self.approved += int(row.approved)
        self.breaches += int(breached(row))
        if row.submitted_at is not None:
            self.hours.append((row.decided_at - row.submitted_at).total_seconds() / 3600)

    @property
    def approval_rate(self) -> float | None:
        return self.approved / self.decisions if self.decisions else None

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None


@dataclass(slots=True)
class ReviewStats:
    first: date
    last: date
    overall: Tally
    per_day: list[tuple[date, int, int]]  # (day, decisions, approvals)
    by_kind: dict[str, Tally]
    by_reason: dict[tuple[str, str], Tally]
    by_reviewer: dict[str, Tally]


def breached(row: DecisionRow) -> bool:
    """Decided after the review deadline."""
    return row.review_due_at is not None and row.decided_at > row.review_due_at


def review_stats(rows: list[DecisionRow], first: date, last: date, tz: ZoneInfo) -> ReviewStats:
    """Tallies of decisions whose local day lies in [first, last]."""
    overall = Tally()
    per_day: Counter[date] = Counter()
    approvals: Counter[date] = Counter()
    by_kind: dict[str, Tally] = defaultdict(Tally)
    by_reason: dict[tuple[str, str], Tally] = defaultdict(Tally)
    by_reviewer: dict[str, Tally] = defaultdict(Tally)
    for row in rows:
        day = row.decided_at.astimezone(tz).date()
        if not first <= day <= last:
            continue
        overall.add(row)
        per_day[day] += 1
        approvals[day] += int(row.approved)
        by_kind[row.kind].add(row)
        by_reason[(row.kind, row.reason)].add(row)
        who = row.decided_by if row.cause == "reviewer" else f"({row.cause})"
        by_reviewer[who].add(row)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return ReviewStats(
        first=first,
        last=last,
        overall=overall,
        per_day=[(d, per_day[d], approvals[d]) for d in days],
        by_kind=dict(sorted(by_kind.items())),
        by_reason=dict(sorted(by_reason.items())),
        by_reviewer=dict(sorted(by_reviewer.items())),
    )


def decided_between(start: datetime, end: datetime) -> QuerySet[Appeal]:
    return Appeal.objects.filter(
        status__in=sorted(DECIDED_STATUSES), decided_at__gte=start, decided_at__lt=end
    )


def decision_rows(start: datetime, end: datetime) -> list[DecisionRow]:
    """Every decision made in [start, end), as plain rows."""
    values = decided_between(start, end).values_list(
        "decided_by__username",
        "decided_by_label",
        "decision_cause",
        "defect__kind",
        "reason",
        "status",
        "submitted_at",
        "decided_at",
        "review_due_at",
    )
    return [
        DecisionRow(
            decided_by=username or label,
            cause=cause or "reviewer",
            kind=kind,
            reason=reason,
            approved=status == Status.APPROVED,
            submitted_at=submitted,
            decided_at=decided,
            review_due_at=due,
        )
        for username, label, cause, kind, reason, status, submitted, decided, due in values
        if decided is not None
    ]


def reason_label(kind: str, code: str) -> str:
    found = reason_lookup(kind, code)
    return str(found.label) if found else code
