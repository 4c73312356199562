"""Every Seller Center page renders for its audience, and only for it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.test_appeal_support import client_for, frozen, media  # noqa: F401 - fixtures
from tests.test_web_support import shop

pytestmark = pytest.mark.usefixtures("media", "frozen")


def test_every_page_renders_for_the_owner(cast: dict[str, Any], make_event: Any) -> None:
    defects = shop(make_event)
    alice = client_for(cast["alice"])
    order = defects["feedback"].order
    for url in [
        "/",
        "/orders/",
        "/orders/?problem=1",
        f"/orders/US/{order.order_ref}/",
        f"/defects/{defects['feedback'].pk}/appeal/",
        "/appeals/",
        "/appeals/?tab=review",
        "/appeals/?tab=decided",
        "/messages/",
        "/notifications/",
        "/settings/users/",
        "/settings/tokens/",
    ]:
        response = alice.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.content.decode()
        assert "Account health" in body and "Appeals" in body and "Messages" in body, url


def test_signed_out_visitors_go_to_sign_in(db: Any) -> None:
    from django.test import Client

    response = Client().get("/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=/orders/")


def test_notifications_show_the_unread_count_and_can_be_marked_read(
    cast: dict[str, Any], make_event: Any
) -> None:
    from django.db import transaction

    from defectdesk.notify.actions import notify_users, outbox_deliver
    from defectdesk.notify.models import Notification

    with transaction.atomic():
        notify_users(
            user_ids=[cast["alice"].pk],
            subject="Appeal 7: <b>approved</b>",
            body="Your appeal was approved.",
            link="/appeals/7/",
        )
        notify_users(user_ids=[cast["alice"].pk], subject="Second", body="More.")
    outbox_deliver()
    alice = client_for(cast["alice"])
    page = alice.get("/notifications/").content.decode()
    assert '<span class="badge">2' in page
    assert "Appeal 7: &lt;b&gt;approved&lt;/b&gt;" in page
    first = Notification.objects.get(subject="Second")
    alice.post("/notifications/read/", {"id": str(first.pk)})
    assert '<span class="badge">1' in alice.get("/notifications/").content.decode()
    alice.post("/notifications/read/", {"all": "1"})
    assert 'class="badge"' not in alice.get("/notifications/").content.decode()
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    # Nobody marks someone else's notifications read.
    client_for(cast["carol"]).post("/notifications/read/", {"all": "1"})


def test_owners_add_users_and_tokens_and_refuse_bad_input(cast: dict[str, Any]) -> None:
    from defectdesk.accounts.models import ApiToken, Membership

    alice = client_for(cast["alice"])
    bad = alice.post("/settings/users/", {"email": "carol", "role": "staff"})
    assert "must be an e-mail address" in bad.content.decode()
    assert not Membership.objects.filter(user=cast["carol"], seller__external_id="S-1").exists()
    sent = alice.post("/settings/users/", {"email": "dave@s1.example", "role": "read_only"})
    assert sent.status_code == 302
    listed = alice.get("/settings/users/").content.decode()
    assert "An invitation was sent to dave@s1.example" in listed
    assert "dave@s1.example" in listed and "Read-only staff" in listed
    created = alice.post("/settings/tokens/", {"name": "sync", "read_only": "1"})
    body = created.content.decode()
    token = ApiToken.objects.get(name="sync")
    assert token.seller.external_id == "S-1" and token.read_only
    assert re.search(r'id="new-token">dd_[0-9a-f]{8}_', body)
    assert alice.post("/settings/tokens/", {"name": "  "}).status_code == 200
    assert ApiToken.objects.count() == 1
    carol = client_for(cast["carol"])
    assert carol.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404
    alice.post(f"/settings/tokens/{token.pk}/revoke/", {"confirm": "yes"})
    token.refresh_from_db()
    assert token.revoked_at is not None
