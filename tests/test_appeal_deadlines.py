"""Deadlines with a frozen clock: filing windows, information requests, overdue reviews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from defectdesk.appeals.actions import (
    appeal_assign,
    appeal_create,
    appeal_reply,
    appeal_request_info,
    appeal_submit,
    appeals_expire_due,
    appeals_flag_overdue,
)
from defectdesk.appeals.models import Appeal, AppealPolicy
from defectdesk.appeals.selectors import appealable_until, review_queue
from defectdesk.core.errors import ValidationFailed
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.notify.models import OutboxMessage
from tests.test_appeal_support import (
    EXPLANATION,
    NOW,
    claim_refunded_first,
    defect_on,
    ingest,
    media,  # noqa: F401 - fixture
    negative_feedback,
)

pytestmark = pytest.mark.usefixtures("media")


def _submitted(cast: dict[str, Any], defect: Defect) -> Appeal:
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
    )
    return appeal_submit(actor=cast["alice"], appeal=appeal)


def test_info_request_expires_after_72_hours(cast: dict[str, Any], make_event: Any) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        defect = negative_feedback(make_event)
        appeal = _submitted(cast, defect)
        clock.shift(timedelta(hours=1))
        appeal_request_info(actor=cast["rita"], appeal=appeal, question="Photos, please.")
        asked_at = NOW + timedelta(hours=1)
        clock.shift(timedelta(hours=72) - timedelta(seconds=1))
        assert appeals_expire_due() == 0
        assert Appeal.objects.get().status == "info_requested"
        clock.shift(timedelta(seconds=1))
        assert appeals_expire_due() == 1
        assert appeals_expire_due() == 0
    appeal.refresh_from_db()
    assert appeal.status == "denied"
    assert appeal.decision_cause == "expired"
    assert appeal.decided_at == asked_at + timedelta(hours=72)
    assert "72 hours" in appeal.decision_note
    last = AuditEvent.objects.filter(object_type="appeal").order_by("id").last()
    assert last is not None
    assert (last.action, last.from_state, last.to_state, last.actor_label) == (
        "appeal.deny",
        "info_requested",
        "denied",
        "rule:info_request_deadline",
    )
    defect.refresh_from_db()
    assert defect.status == Defect.Status.ACTIVE


def test_a_reply_in_time_stops_the_expiry_and_restarts_the_review_clock(
    cast: dict[str, Any], make_event: Any
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        appeal = _submitted(cast, negative_feedback(make_event))
        appeal_request_info(actor=cast["rita"], appeal=appeal, question="Photos, please.")
        clock.shift(timedelta(hours=71))
        appeal_reply(actor=cast["alice"], appeal=appeal, message="Attached now.")
        clock.shift(timedelta(hours=2))
        assert appeals_expire_due() == 0
    appeal.refresh_from_db()
    assert appeal.status == "in_review"
    assert appeal.review_due_at == NOW + timedelta(hours=71 + 48)


def test_filing_after_the_window_is_refused_with_the_date_it_closed(
    cast: dict[str, Any], make_event: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        defect = negative_feedback(make_event, posted="2026-10-06T09:00:00Z")
    closes = defect.opened_at + timedelta(days=90)
    assert appealable_until(defect) == closes
    with (
        time_machine.travel(closes + timedelta(seconds=1), tick=False),
        pytest.raises(ValidationFailed) as refused,
    ):
        appeal_create(actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION)
    assert "closed on 4 Jan 2027, 01:00 PST (America/Los_Angeles)" in refused.value.detail
    assert not Appeal.objects.exists()
    with time_machine.travel(closes, tick=False):
        assert (
            appeal_create(
                actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
            ).status
            == "draft"
        )


def test_a_draft_submitted_after_the_window_is_refused(
    cast: dict[str, Any], make_event: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        defect = claim_refunded_first(make_event)
        appeal = appeal_create(
            actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
        )
    with (
        time_machine.travel(defect.opened_at + timedelta(days=30, minutes=1), tick=False),
        pytest.raises(ValidationFailed) as refused,
    ):
        appeal_submit(actor=cast["alice"], appeal=appeal)
    assert "closed on 6 Nov 2026, 04:00 PST (America/Los_Angeles)" in refused.value.detail
    assert Appeal.objects.get().status == "draft"


def test_a_claim_granted_seller_funded_is_appealable_30_days_from_the_decision(
    cast: dict[str, Any], make_event: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        defect = claim_refunded_first(make_event)
    assert appealable_until(defect) == datetime(2026, 11, 6, 12, tzinfo=UTC)
    ingest(
        make_event(
            "claim.decided",
            order="111-0000002-0000002",
            at="2026-11-20T08:00:00Z",
            claim_id="C-1",
            outcome="granted_seller_funded",
        )
    )
    defect = defect_on("111-0000002-0000002", "a_to_z_claim", opened_at=defect.opened_at)
    assert appealable_until(defect) == datetime(2026, 12, 20, 8, tzinfo=UTC)


def test_policy_rows_change_the_windows_and_deadlines(
    cast: dict[str, Any], make_event: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        defect = negative_feedback(make_event)
        AppealPolicy.objects.create(
            marketplace=defect.marketplace,
            filing_window_days={"negative_feedback": 10},
            review_hours=24,
        )
        assert appealable_until(defect) == defect.opened_at + timedelta(days=10)
        appeal = _submitted(cast, defect)
    assert appeal.review_due_at == NOW + timedelta(hours=24)


def test_appeals_past_their_review_deadline_are_flagged_once(
    cast: dict[str, Any], make_event: Any
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        first = _submitted(cast, negative_feedback(make_event))
        clock.shift(timedelta(hours=1))
        second = _submitted(cast, negative_feedback(make_event, order="111-0000003-0000003"))
        appeal_assign(actor=cast["rita"], appeal=second, reviewer="rita")
        assert [a.pk for a in review_queue(cast["rita"])] == [first.pk, second.pk]
        clock.shift(timedelta(hours=47, seconds=30))
        assert appeals_flag_overdue() == 1
        clock.shift(timedelta(hours=1))
        assert appeals_flag_overdue() == 1
        assert appeals_flag_overdue() == 0
    flagged = AuditEvent.objects.filter(action="appeal.overdue").order_by("id")
    assert [e.object_id for e in flagged] == [str(first.pk), str(second.pk)]
    breach = OutboxMessage.objects.filter(
        subject__contains="past its review deadline", channel="in_app"
    )
    # The unassigned one goes to every reviewer; the assigned one to its reviewer.
    assert sorted((m.object_id, m.user.username) for m in breach) == sorted(
        [(str(first.pk), "rita"), (str(second.pk), "rita")]
    )


def test_a_policy_with_unknown_modes_or_bad_windows_is_refused(marketplace: Any) -> None:
    from django.core.exceptions import ValidationError

    policy = AppealPolicy(
        marketplace=marketplace,
        auto_rules={"refund_before_claim": "maybe"},
        filing_window_days={"refund": 0},
    )
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert set(refused.value.message_dict) >= {"auto_rules", "filing_window_days"}


def test_the_deadline_and_delivery_jobs_are_registered_with_the_scheduler(
    cast: dict[str, Any], make_event: Any
) -> None:
    from defectdesk.appeals.jobs import info_requests_expire_job
    from defectdesk.core.jobs import periodic_jobs

    names = {job.name for job in periodic_jobs()}
    assert {"expire information requests", "flag overdue reviews", "deliver outbox"} <= names
    with time_machine.travel(NOW, tick=False) as clock:
        appeal = _submitted(cast, negative_feedback(make_event))
        appeal_request_info(actor=cast["rita"], appeal=appeal, question="Photos, please.")
        clock.shift(timedelta(hours=73))
        assert info_requests_expire_job.call() == 1
    assert Appeal.objects.get().status == "denied"
