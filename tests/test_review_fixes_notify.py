"""Notification links are absolute site addresses; nobody is told of their own action."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client

from defectdesk.appeals.actions import appeal_create, appeal_submit
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.status import account_status_announce
from defectdesk.notify.actions import outbox_deliver
from defectdesk.notify.models import Notification
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    client_for,
    frozen,
    media,
    negative_feedback,
)


def test_at_risk_notification_links_to_account_health_and_its_email_has_the_link(
    cast: dict[str, Any], settings: Any
) -> None:
    settings.BASE_URL = "https://desk.example.com"
    cast["alice"].email = "alice@example.com"
    cast["alice"].save()
    seller = cast["alice"].memberships.get().seller
    with transaction.atomic():
        account_status_announce(
            seller=seller,
            marketplace=Marketplace.objects.get(code="US"),
            day=date(2026, 10, 12),
            old="healthy",
            new="at_risk",
            failing=["order_defect_rate"],
        )
    outbox_deliver()
    note = Notification.objects.get(user=cast["alice"])
    assert note.link == "https://desk.example.com/?marketplace=US"
    [email] = mail.outbox
    assert "https://desk.example.com/?marketplace=US" in email.body
    path = note.link.removeprefix(settings.BASE_URL)
    assert client_for(cast["alice"]).get(path).status_code == 200


@pytest.mark.usefixtures("media", "frozen")
def test_the_merchant_is_not_notified_of_their_own_submission(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    outbox_deliver()
    assert not Notification.objects.filter(user=cast["alice"]).exists()
    [bobs] = Notification.objects.filter(user=cast["bob"])
    assert bobs.link.endswith(f"/appeals/{appeal.pk}/")
    assert Client().get(bobs.link.split("8000", 1)[1]).status_code == 302  # a real page


@pytest.mark.usefixtures("media", "frozen")
def test_merchant_notices_give_deadlines_in_the_marketplace_zone(
    cast: dict[str, Any], make_event: Any
) -> None:
    from defectdesk.appeals.actions import appeal_request_info

    defect = negative_feedback(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    appeal_request_info(actor=cast["rita"], appeal=appeal, question="Which colour was it?")
    outbox_deliver()
    bodies = [n.body for n in Notification.objects.filter(user=cast["bob"]).order_by("id")]
    # Submitted on Oct 12, 12:00 UTC: decision due 48 h later, answer due 72 h after the ask.
    assert "A decision is expected by 14 Oct 2026, 05:00 PDT (America/Los_Angeles)." in bodies[0]
    assert "Please answer by 15 Oct 2026, 05:00 PDT (America/Los_Angeles)" in bodies[-1]
    assert all("UTC" not in body for body in bodies)
