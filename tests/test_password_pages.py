"""Password change and reset by e-mail, with Django's views in the product's layout."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client

NEW = "a-much-longer-passphrase-7"


def test_password_change_ends_other_sessions(cast: Any) -> None:
    alice = cast["alice"]
    here, elsewhere = Client(), Client()
    here.force_login(alice)
    elsewhere.force_login(alice)
    page = here.get("/password/")
    assert page.status_code == 200 and b"Change password" in page.content
    weak = here.post(
        "/password/",
        {
            "old_password": "correct-horse-1",
            "new_password1": "12345678",
            "new_password2": "12345678",
        },
    )
    assert weak.status_code == 200 and b"entirely numeric" in weak.content
    done = here.post(
        "/password/",
        {"old_password": "correct-horse-1", "new_password1": NEW, "new_password2": NEW},
    )
    assert done.status_code == 302
    assert here.get("/orders/").status_code == 200
    assert elsewhere.get("/orders/").status_code == 302


def test_password_reset_link_works_once(cast: Any) -> None:
    alice = cast["alice"]
    alice.email = "alice@example.com"
    alice.save()
    client = Client()
    assert client.post("/password/reset/", {"email": "alice@example.com"}).status_code == 302
    unknown = client.post("/password/reset/", {"email": "nobody@example.com"})
    assert unknown.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/password/reset/\S+/)", mail.outbox[0].body)
    assert link is not None
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200 and b"new_password1" in form.content
    set_url = form.redirect_chain[-1][0]
    assert client.post(set_url, {"new_password1": NEW, "new_password2": NEW}).status_code == 302
    again = Client().get(link.group(1), follow=True)
    assert b"no longer valid" in again.content
    assert Client().login(username="alice", password=NEW)
