"""A decision carries the state the reviewer saw and is refused inside the lock if it changed."""

from __future__ import annotations

from typing import Any

import pytest

from defectdesk.accounts.actions import user_create
from defectdesk.appeals.actions import appeal_assign, appeal_decide, appeal_request_info
from defectdesk.appeals.models import Appeal
from defectdesk.core.actors import SYSTEM
from defectdesk.core.errors import Conflict, ValidationFailed
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    client_for,
    frozen,
    media,
)
from tests.test_console_review import submitted

pytestmark = pytest.mark.usefixtures("media", "frozen")


def test_a_decision_against_a_state_changed_meanwhile_is_a_conflict(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    ray = user_create(actor=SYSTEM, username="ray", password="correct-horse-2", reviewer=True)
    appeal_request_info(actor=ray, appeal=appeal, question="Please send photos.")
    with pytest.raises(Conflict, match="ray changed this appeal"):
        appeal_decide(
            actor=cast["rita"], appeal=appeal, decision="approve", note="", seen="submitted"
        )
    assert Appeal.objects.get(pk=appeal.pk).status == "info_requested"


def test_a_decision_with_an_unknown_seen_state_is_refused(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    with pytest.raises(ValidationFailed, match="reload the appeal"):
        appeal_decide(actor=cast["rita"], appeal=appeal, decision="approve", seen="")


def test_the_api_decision_with_a_stale_seen_status_gets_409(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    appeal_assign(actor=cast["rita"], appeal=appeal, reviewer="rita")
    rita = client_for(cast["rita"])
    stale = rita.post(
        f"/api/v1/appeals/{appeal.pk}/decide",
        {"decision": "deny", "note": "No proof.", "seen_status": "info_requested"},
        content_type="application/json",
    )
    assert stale.status_code == 409, stale.json()
    fresh = rita.post(
        f"/api/v1/appeals/{appeal.pk}/decide",
        {
            "decision": "deny",
            "note": "No proof.",
            "seen_status": Appeal.objects.get(pk=appeal.pk).status,
        },
        content_type="application/json",
    )
    assert fresh.status_code == 200, fresh.json()


def test_the_web_decision_checks_the_seen_state_inside_the_action(
    cast: dict[str, Any], make_event: Any, monkeypatch: Any
) -> None:
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    ray = user_create(actor=SYSTEM, username="ray", password="correct-horse-2", reviewer=True)
    from defectdesk.appeals import actions

    real_locked = actions._locked

    def change_then_lock(pk: Any) -> Appeal:
        """Another reviewer acts between the page's read and the decision's lock."""
        monkeypatch.setattr(actions, "_locked", real_locked)
        appeal_request_info(actor=ray, appeal=pk, question="Please send photos.")
        return real_locked(pk)

    monkeypatch.setattr(actions, "_locked", change_then_lock)
    page = client_for(cast["rita"]).post(
        f"/review/appeals/{appeal.pk}/decide/",
        {"seen": "submitted", "decision": "approve", "note": ""},
        follow=True,
    )
    assert "ray changed this appeal" in page.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).status != "approved"
