"""Merchant pages: expired denials named, refusals before typing, confirmations before acting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from defectdesk.appeals.actions import appeal_request_info, appeals_expire_due
from defectdesk.appeals.models import Appeal
from tests.test_appeal_deadlines import _submitted
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    NOW,
    client_for,
    media,
    negative_feedback,
)

pytestmark = pytest.mark.usefixtures("media")


def test_a_denial_for_a_missed_reply_says_the_reply_deadline_passed(
    cast: dict[str, Any], make_event: Any
) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        appeal = _submitted(cast, negative_feedback(make_event))
        appeal_request_info(actor=cast["rita"], appeal=appeal, question="Photos, please.")
        clock.shift(timedelta(hours=73))
        assert appeals_expire_due() == 1
        alice = client_for(cast["alice"])
        listed = alice.get("/appeals/?tab=decided").content.decode()
        shown = alice.get(f"/appeals/{appeal.pk}/").content.decode()
        api = alice.get(f"/api/v1/appeals/{appeal.pk}").json()
    assert "Denied: the reply deadline passed" in listed
    assert "Denied: the reply deadline passed" in shown
    assert "rule:info_request_deadline" not in shown
    assert api["status_text"] == "Denied: the reply deadline passed"
    assert api["denied_because_reply_deadline_passed"] is True
    assert Appeal.objects.get().status == "denied"


def test_the_messages_page_reads_the_response_hours_from_the_policy(
    cast: dict[str, Any], make_event: Any, marketplace: Any
) -> None:
    from datetime import UTC, datetime

    from defectdesk.core.actors import SYSTEM
    from defectdesk.policy.actions import policy_set
    from tests.test_appeal_support import ingest

    policy_set(
        marketplace=marketplace,
        actor=SYSTEM,
        profile={"metrics": {"contact_response_rate": {"response_hours": 12}}},
    )
    ingest(
        make_event(order="o-msg", at="2026-10-01T12:00:00Z"),
        make_event("message.received", order="o-msg", at="2026-10-02T00:00:00Z", message_id="m1"),
    )
    # 13 hours after the message: past the policy's 12 hours, within a fixed 24.
    with time_machine.travel(datetime(2026, 10, 2, 13, 0, tzinfo=UTC), tick=False):
        page = client_for(cast["alice"]).get("/messages/").content.decode()
    assert "Answer within 12 hours" in page
    assert "24 hours" not in page
    assert "overdue" in page.lower()


@pytest.mark.parametrize("who", ["bob", "otto"])
def test_read_only_staff_and_operators_are_refused_before_the_appeal_form(
    cast: dict[str, Any], make_event: Any, who: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        defect = negative_feedback(make_event)
        page = client_for(cast[who]).get(f"/defects/{defect.pk}/appeal/")
    assert page.status_code in (403, 404)
    body = page.content.decode()
    assert "<textarea" not in body
    if page.status_code == 403:
        assert "may view this seller" in body or "Only the seller" in body


def test_withdraw_asks_first_and_says_how_many_appeals_remain(
    cast: dict[str, Any], make_event: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        appeal = _submitted(cast, negative_feedback(make_event))
        alice = client_for(cast["alice"])
        asked = alice.post(f"/appeals/{appeal.pk}/withdraw/")
        body = asked.content.decode()
        assert asked.status_code == 200
        assert Appeal.objects.get().status == "submitted"  # one click did nothing yet
        assert "you can still file 1 appeal of this defect" in body
        assert "at most 2 per defect" in body
        assert 'name="confirm" value="yes"' in body and "<script" not in body.split("<main")[-1]
        assert alice.get(f"/appeals/{appeal.pk}/withdraw/").status_code == 200
        alice.post(f"/appeals/{appeal.pk}/withdraw/", {"confirm": "yes"})
    assert Appeal.objects.get().status == "withdrawn"


def test_revoking_a_token_asks_first(cast: dict[str, Any]) -> None:
    from defectdesk.accounts.actions import token_create
    from defectdesk.core.actors import SYSTEM

    token, _raw = token_create(actor=SYSTEM, name="sync", seller="S-1")
    alice = client_for(cast["alice"])
    asked = alice.post(f"/settings/tokens/{token.pk}/revoke/")
    assert "stops working at once" in asked.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    alice.post(f"/settings/tokens/{token.pk}/revoke/", {"confirm": "yes"})
    token.refresh_from_db()
    assert token.revoked_at is not None
    other, _raw = token_create(actor=SYSTEM, name="other", scopes=["ingest"])
    otto = client_for(cast["otto"])
    assert (
        "stops working at once"
        in otto.post(f"/operator/tokens/{other.pk}/revoke/").content.decode()
    )
    other.refresh_from_db()
    assert other.revoked_at is None


def test_an_expired_session_keeps_the_typed_appeal_and_says_why(
    cast: dict[str, Any], make_event: Any
) -> None:
    from django.test import Client

    text = "The buyer reviewed the product itself, not our service; see the photos we attach."
    with time_machine.travel(NOW, tick=False):
        defect = negative_feedback(make_event)
        browser = Client()  # signed out: the session expired while the form was open
        url = f"/defects/{defect.pk}/appeal/"
        sent = browser.post(url, {"reason": "product_review_only", "explanation": text})
        assert sent.status_code == 302 and sent["Location"].startswith("/signin/?next=")
        signin = browser.get(sent["Location"]).content.decode()
        assert "Your session expired; sign in again to continue — your text is kept." in signin
        signed = browser.post(
            "/signin/", {"username": "alice", "password": "correct-horse-1", "next": url}
        )
        assert signed.status_code == 302 and signed["Location"] == url
        form = browser.get(url).content.decode()
        assert text in form
        assert 'value="product_review_only" selected' in form or "product_review_only" in form
        again = browser.get(url).content.decode()
    assert text not in again  # shown once, not kept forever
    assert not Appeal.objects.exists()


def test_a_stale_csrf_token_gets_the_products_own_page_with_the_text(
    cast: dict[str, Any], make_event: Any
) -> None:
    from django.test import Client

    with time_machine.travel(NOW, tick=False):
        defect = negative_feedback(make_event)
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(cast["alice"])
        refused = browser.post(
            f"/defects/{defect.pk}/appeal/",
            {"reason": "other", "explanation": "What I typed for a long time."},
        )
    assert refused.status_code == 403
    body = refused.content.decode()
    assert "The form has expired" in body
    assert "What I typed for a long time." in body
    assert "Seller Center" in body or "<nav" in body  # the product's layout, not Django's page
    assert "CSRF verification failed" not in body
