"""What moved a metric in the last week and when its counted orders leave the window."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from defectdesk.core.datacache import cached, shows_seller
from defectdesk.metrics.explain import explain_change, outlook
from defectdesk.metrics.health import Scope

CHANGES_SHOWN = 12
CHANGE_DAYS = 7
# The version in the key makes a stale entry unreachable; the timeout bounds how long today's
# explanation, whose cut-off moves with the clock, may lag.
CACHE_SECONDS = 60


def metric_changes(
    scope: Scope, metric: str, as_of: date, shown: int = CHANGES_SHOWN
) -> dict[str, Any]:
    """What entered and what left the metric's count in the last 7 days, and why."""
    change = explain_change(scope, metric, as_of - timedelta(days=CHANGE_DAYS), as_of)
    out: dict[str, Any] = {
        "before": change["from"]["rate"],
        "after": change["to"]["rate"],
        "counted_before": change["from"]["counted_against"],
        "counted_after": change["to"]["counted_against"],
        "more": max(0, len(change["entered"]) + len(change["left"]) - 2 * shown),
    }
    for key in ("entered", "left"):
        out[key] = [{**o, "reason": str(o.get("reason", ""))} for o in change[key][:shown]]
    return out


def metric_rolloff(scope: Scope, metric: str, as_of: date) -> dict[str, Any]:
    """The day each counted order leaves the window in the next 30 days, with the rate
    projected for that day if nothing new is counted."""
    return cached(
        "web:rolloff",
        shows_seller(scope.seller.pk),
        (scope.marketplace.pk, metric, as_of),
        lambda: _rolloff(scope, metric, as_of),
        CACHE_SECONDS,
    )


def _rolloff(scope: Scope, metric: str, as_of: date) -> dict[str, Any]:
    seen = outlook(scope, metric, as_of)
    projected = {p["date"]: p for p in seen["projection"]}
    by_day: dict[str, list[str]] = {}
    for item in seen["defects"]:
        by_day.setdefault(item["leaves_window_on"], []).append(item["order"])
    calendar = []
    for day in sorted(by_day):
        point = projected.get(day)
        if point is None:
            continue
        calendar.append(
            {
                "day": date.fromisoformat(day),
                "orders": sorted(set(by_day[day])),
                "rate": point["rate"],
                "status": point["status"],
            }
        )
    return {"calendar": calendar, "active": len(seen["defects"])}
