"""The reviewer statistics core: plain decision rows in, tallies out (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from defectdesk.console.stats import DecisionRow, breached, review_stats

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def row(
    who: str,
    hours: float,
    approved: bool,
    *,
    due_hours: float = 48,
    day: int = 0,
    kind: str = "negative_feedback",
    reason: str = "other",
    cause: str = "reviewer",
) -> DecisionRow:
    submitted = T0 + timedelta(days=day)
    return DecisionRow(
        decided_by=who,
        cause=cause,
        kind=kind,
        reason=reason,
        approved=approved,
        submitted_at=submitted,
        decided_at=submitted + timedelta(hours=hours),
        review_due_at=submitted + timedelta(hours=due_hours),
    )


def test_tallies_per_reviewer_kind_reason_and_day() -> None:
    rows = [
        row("rita", 2, True),
        row("rita", 50, False),  # after the 48 h deadline
        row("ray", 10, True, day=1, kind="a_to_z_claim", reason="delivered_per_tracking"),
        row("rule:refund_before_claim", 0, True, day=1, cause="rule"),
    ]
    stats = review_stats(rows, date(2026, 10, 1), date(2026, 10, 3), BERLIN)
    assert stats.overall.decisions == 4 and stats.overall.approved == 3
    assert stats.overall.breaches == 1
    assert stats.by_reviewer["rita"].median_hours == 26
    assert stats.by_reviewer["rita"].approval_rate == 0.5
    assert stats.by_reviewer["(rule)"].decisions == 1
    assert stats.by_reason[("a_to_z_claim", "delivered_per_tracking")].approved == 1
    # rita's second decision lands on Oct 3 in Berlin (Oct 3, 10:00 UTC).
    assert [(d.day, n, a) for d, n, a in stats.per_day] == [(1, 1, 1), (2, 2, 2), (3, 1, 0)]


def test_days_are_the_viewers_local_days_and_outside_ones_are_left_out() -> None:
    late = DecisionRow(
        "rita",
        "reviewer",
        "refund",
        "other",
        True,
        None,
        datetime(2026, 10, 1, 22, 30, tzinfo=UTC),
        None,
    )
    inside = review_stats([late], date(2026, 10, 2), date(2026, 10, 2), BERLIN)
    assert inside.overall.decisions == 1  # 00:30 on Oct 2 in Berlin
    assert inside.overall.median_hours is None  # never submitted: no time to decision
    outside = review_stats([late], date(2026, 10, 2), date(2026, 10, 2), ZoneInfo("UTC"))
    assert outside.overall.decisions == 0


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 100), st.booleans()), max_size=30))
def test_breaches_and_approvals_match_a_plain_count(items: list[tuple[int, int, bool]]) -> None:
    rows = [row("rita", h, ok, due_hours=due) for h, due, ok in items]
    stats = review_stats(rows, date(2026, 9, 1), date(2026, 12, 31), BERLIN)
    assert stats.overall.decisions == len(items)
    assert stats.overall.breaches == sum(1 for h, due, _ in items if h > due)
    assert stats.overall.approved == sum(1 for *_, ok in items if ok)
    assert stats.overall.breaches == sum(1 for r in rows if breached(r))
