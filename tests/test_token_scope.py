"""A token acts within its own scope: one seller's notifications, and only while its creator may."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from defectdesk.accounts.actions import seller_ensure, staff_roles_set, token_create
from defectdesk.accounts.models import Membership
from defectdesk.core.actors import SYSTEM, Actor
from defectdesk.notify.models import Notification


@pytest.fixture
def carol_two_sellers(cast: Any) -> dict[str, Any]:
    """carol owns S-2 and S-3, with one account-status notification about each."""
    carol = cast["carol"]
    s3 = seller_ensure("S-3")
    Membership.objects.create(user=carol, seller=s3, role=Membership.Role.OWNER)
    from django.utils import timezone

    now = timezone.now()
    with transaction.atomic():
        for ref in ("S-2", "S-3"):
            Notification.objects.create(
                user=carol,
                subject=f"Your account is at risk ({ref})",
                body=f"secret about {ref}",
                object_type="account_status",
                object_id=ref,
                created_at=now,
            )
    return cast


def _bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_seller_token_lists_only_its_sellers_notifications(carol_two_sellers: Any) -> None:
    _, raw = token_create(actor=Actor(user=carol_two_sellers["carol"]), name="t", seller="S-2")
    body = _bearer(raw).get("/api/v1/notifications").json()
    assert [n["body"] for n in body["items"]] == ["secret about S-2"]
    assert body["count"] == 1 and body["unread"] == 1


def test_seller_token_marks_only_its_sellers_notifications(carol_two_sellers: Any) -> None:
    _, raw = token_create(actor=Actor(user=carol_two_sellers["carol"]), name="t", seller="S-2")
    ids = list(Notification.objects.values_list("pk", flat=True))
    reply = _bearer(raw).post(
        "/api/v1/notifications/read", {"ids": ids}, content_type="application/json"
    )
    assert reply.status_code == 200 and reply.json() == {"marked": 1}
    assert Notification.objects.get(object_id="S-3").read_at is None


def test_read_only_token_cannot_mark_read(carol_two_sellers: Any) -> None:
    _, raw = token_create(
        actor=Actor(user=carol_two_sellers["carol"]), name="t", seller="S-2", read_only=True
    )
    ids = list(Notification.objects.values_list("pk", flat=True))
    reply = _bearer(raw).post(
        "/api/v1/notifications/read", {"ids": ids}, content_type="application/json"
    )
    assert reply.status_code == 403
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_operator_seller_token_sees_none_of_the_operators_notifications(cast: Any) -> None:
    from django.utils import timezone

    Notification.objects.create(
        user=cast["otto"],
        subject="about S-9",
        body="operator note",
        object_type="account_status",
        object_id="S-9",
        created_at=timezone.now(),
    )
    _, raw = token_create(actor=Actor(user=cast["otto"]), name="t", seller="S-1")
    assert _bearer(raw).get("/api/v1/notifications").json()["items"] == []


def test_token_dies_with_its_creators_deactivation(cast: Any) -> None:
    _, raw = token_create(actor=Actor(user=cast["alice"]), name="t", seller="S-1")
    assert _bearer(raw).get("/api/v1/notifications").status_code == 200
    cast["alice"].is_active = False
    cast["alice"].save()
    assert _bearer(raw).get("/api/v1/notifications").status_code == 401


def test_seller_token_dies_with_its_creators_membership(cast: Any) -> None:
    _, raw = token_create(actor=Actor(user=cast["alice"]), name="t", seller="S-1")
    Membership.objects.filter(user=cast["alice"]).delete()
    assert _bearer(raw).get("/api/v1/notifications").status_code == 401


def test_review_token_dies_with_its_creators_reviewer_role(cast: Any) -> None:
    _, raw = token_create(actor=Actor(user=cast["rita"]), name="t", scopes=["review"])
    assert _bearer(raw).get("/api/v1/notifications").status_code == 200
    staff_roles_set(actor=SYSTEM, user=cast["rita"], reviewer=False, operator=False)
    assert _bearer(raw).get("/api/v1/notifications").status_code == 401
