"""An approved appeal removes a defect: health changes at once and the removal survives rebuilds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from defectdesk.accounts.models import Seller
from defectdesk.core.actors import SYSTEM
from defectdesk.core.models import AuditEvent
from defectdesk.defects.actions import defect_remove_by_appeal
from defectdesk.defects.models import Defect
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Order
from defectdesk.ledger.rebuild import ledger_rebuild
from defectdesk.metrics.health import metric_history, scope_for
from tests.health import health_as_of


@pytest.fixture
def claimed(cast: dict[str, Any], make_event: Any) -> Defect:
    events = [
        make_event(order=f"O-{n}", at=f"2026-08-0{n + 1}T18:00:00Z", fulfillment="marketplace")
        for n in range(4)
    ]
    events.append(
        make_event(
            "claim.filed",
            order="O-2",
            at="2026-08-10T18:00:00Z",
            claim_id="C1",
            reason="not_received",
        )
    )
    assert not events_ingest([Candidate(i, e) for i, e in enumerate(events)]).rejected
    return Defect.objects.get(kind="a_to_z_claim")


def odr(day: date) -> tuple[int, int]:
    m = health_as_of("S-1", "US", day)["metrics"]["order_defect_rate"]
    return m["numerator"], m["denominator"]


def test_approved_appeal_removes_the_defect_from_that_day_on(claimed: Defect) -> None:
    assert odr(date(2026, 9, 1)) == (1, 4)
    removed = defect_remove_by_appeal(
        defect=claimed, appeal_id=7, at=datetime(2026, 9, 5, 18, tzinfo=UTC), actor=SYSTEM
    )
    assert (removed.status, removed.removal_cause, removed.removed_by_appeal_id) == (
        "removed",
        "appeal",
        7,
    )
    assert odr(date(2026, 9, 4)) == (1, 4)  # history before the decision is kept
    assert odr(date(2026, 9, 5)) == (0, 4)
    audit = AuditEvent.objects.get(action="defect_remove_by_appeal")
    assert (audit.object_id, audit.from_state, audit.to_state) == (
        str(claimed.pk),
        "active",
        "removed",
    )
    again = defect_remove_by_appeal(
        defect=claimed, appeal_id=8, at=datetime(2026, 9, 6, tzinfo=UTC), actor=SYSTEM
    )
    assert again.removed_by_appeal_id == 7 and odr(date(2026, 9, 5)) == (0, 4)


def test_appeal_removal_survives_rebuild_with_the_same_id(claimed: Defect) -> None:
    defect_remove_by_appeal(
        defect=claimed, appeal_id=7, at=datetime(2026, 9, 5, 18, tzinfo=UTC), actor=SYSTEM
    )
    scope = scope_for(Seller.objects.get(external_id="S-1"), "US")
    history = metric_history(scope, "order_defect_rate", date(2026, 8, 20), date(2026, 9, 20))
    ledger_rebuild()
    after = Defect.objects.get(kind="a_to_z_claim")
    assert after.pk == claimed.pk
    assert (after.status, after.removal_cause, after.appeal_removed_at) == (
        "removed",
        "appeal",
        datetime(2026, 9, 5, 18, tzinfo=UTC),
    )
    assert (
        metric_history(scope, "order_defect_rate", date(2026, 8, 20), date(2026, 9, 20)) == history
    )


def test_problem_orders_follow_the_removal(claimed: Defect) -> None:
    """The order's problem mark (what `Problem orders` lists) goes with its last defect."""

    def marks() -> dict[str, datetime | None]:
        return dict(Order.objects.values_list("order_ref", "problem_since"))

    assert marks() == {
        "O-0": None,
        "O-1": None,
        "O-2": datetime(2026, 8, 10, 18, tzinfo=UTC),
        "O-3": None,
    }
    defect_remove_by_appeal(
        defect=claimed, appeal_id=7, at=datetime(2026, 9, 5, 18, tzinfo=UTC), actor=SYSTEM
    )
    assert marks()["O-2"] is None
    Order.objects.filter(order_ref="O-2").update(problem_since=datetime(2026, 1, 1, tzinfo=UTC))
    ledger_rebuild()  # a rebuild sets every mark anew
    assert marks()["O-2"] is None
