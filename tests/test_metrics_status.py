"""Account status is recorded daily and a change is announced to the seller once."""

from __future__ import annotations

from datetime import date
from typing import Any

from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.metrics.models import AccountStatusDay
from defectdesk.metrics.status import account_status_record
from defectdesk.notify.models import OutboxMessage


def test_status_change_is_recorded_and_announced_once(
    cast: dict[str, Any], make_event: Any
) -> None:
    events = [make_event(order=f"O-{n}", at=f"2026-09-0{n + 1}T18:00:00Z") for n in range(3)]
    events += [
        make_event(
            "order.shipped", order=f"O-{n}", at=f"2026-09-0{n + 1}T19:00:00Z", tracking_number="1Z"
        )
        for n in range(3)
    ]
    events += [
        make_event(
            "shipment.scanned", order=f"O-{n}", at=f"2026-09-0{n + 1}T20:00:00Z", status="accepted"
        )
        for n in range(3)
    ]
    events += [
        make_event("order.delivered", order=f"O-{n}", at=f"2026-09-0{n + 2}T20:00:00Z")
        for n in range(3)
    ]
    assert not events_ingest([Candidate(i, e) for i, e in enumerate(events)]).rejected
    assert account_status_record(date(2026, 9, 10)) == {"recorded": 1, "changed": 0}
    assert AccountStatusDay.objects.get().status == "healthy"
    refund = make_event("refund.issued", order="O-1", at="2026-09-11T18:00:00Z", amount="1.00")
    assert not events_ingest([Candidate(0, refund)]).rejected
    assert account_status_record(date(2026, 9, 12)) == {"recorded": 1, "changed": 1}
    assert account_status_record(date(2026, 9, 12)) == {"recorded": 1, "changed": 0}
    day = AccountStatusDay.objects.get(day=date(2026, 9, 12))
    assert (day.status, day.failing) == ("at_risk", ["refund_rate"])
    sent = OutboxMessage.objects.filter(object_type="account_status")
    assert {m.user_id for m in sent} == {cast["alice"].pk, cast["bob"].pk}
    assert all(m.subject == "Your account is at risk in US" for m in sent)
