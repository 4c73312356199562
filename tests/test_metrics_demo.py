"""The demo's three sellers show the health they were built to show, as of today."""

from __future__ import annotations

from datetime import date
from typing import Any

import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from defectdesk.ledger.generator import demo_profiles, generate_events
from defectdesk.ledger.ingest import Candidate, events_ingest
from tests.health import health_as_of

TODAY = date(2026, 11, 20)


def failing(health: dict[str, Any]) -> list[str]:
    return [name for name, m in health["metrics"].items() if m["status"] == "bad"]


@time_machine.travel("2026-11-20T20:00:00Z", tick=False)
def test_demo_sellers_are_healthy_odr_failing_and_late_shipping(marketplace: Any) -> None:
    events = list(
        generate_events(orders=6000, profiles=demo_profiles(), days=120, seed=7, end=TODAY)
    )
    for start in range(0, len(events), 5000):
        batch = events[start : start + 5000]
        assert not events_ingest([Candidate(i, e) for i, e in enumerate(batch)]).rejected
    s1, s2, s3 = (health_as_of(s, "US") for s in ("S-1", "S-2", "S-3"))
    assert s1["as_of"] == "2026-11-20"
    assert (s1["account_status"], failing(s1)) == ("at_risk", ["order_defect_rate"])
    assert (s2["account_status"], failing(s2)) == ("healthy", [])
    assert (s3["account_status"], failing(s3)) == ("at_risk", ["late_shipment_rate"])
    assert s1["metrics"]["order_defect_rate"]["rate"] > 0.02


def test_health_command_names_bad_input(cast: Any) -> None:
    for args, message in (
        (["S-404"], "Seller 'S-404' not found."),
        (["S-1", "--marketplace", "XX"], "does not sell in marketplace 'XX'"),
        (["S-1", "--as-of", "2026-1-1"], "as_of"),
        (["S-1", "--history", "401"], "--history must be 1 to 400 days"),
    ):
        try:
            call_command("health", *args, skip_checks=True)
        except CommandError as exc:
            assert message in str(exc), (args, str(exc))
        else:
            raise AssertionError(f"{args} was accepted")
