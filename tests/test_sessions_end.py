"""Sessions end when the password changes (the other sessions; the one that changed it goes on)
and when the user is deactivated; a password reset link works once, and not after a change."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.core.management import call_command
from django.test import Client

from defectdesk.accounts.actions import token_create
from defectdesk.core.actors import Actor
from defectdesk.core.models import AuditEvent

OLD = "correct-horse-1"
NEW = "a-much-longer-passphrase-7"


def _session(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _signed_in(client: Client) -> bool:
    page = client.get("/orders/")
    api = client.get("/api/v1/orders")
    assert (page.status_code == 200) == (api.status_code == 200), (page, api)
    return page.status_code == 200


def _reset_link(client: Client, email: str) -> str:
    mail.outbox.clear()
    assert client.post("/password/reset/", {"email": email}).status_code == 302
    found = re.search(r"https?://[^/]+(/password/reset/\S+/)", mail.outbox[-1].body)
    assert found is not None
    return found.group(1)


def _use_reset_link(link: str, password: str) -> Any:
    client = Client()
    form = client.get(link, follow=True)
    if b"new_password1" not in form.content:
        return form
    set_url = form.redirect_chain[-1][0]
    return client.post(set_url, {"new_password1": password, "new_password2": password})


def test_a_password_change_ends_the_other_sessions_on_pages_and_api(cast: Any) -> None:
    here, elsewhere, phone = _session(cast["alice"]), _session(cast["alice"]), _session(cast["bob"])
    done = here.post(
        "/password/", {"old_password": OLD, "new_password1": NEW, "new_password2": NEW}
    )
    assert done.status_code == 302
    assert _signed_in(here)
    assert not _signed_in(elsewhere)
    assert _signed_in(phone)  # another user's session is untouched


def test_a_password_set_from_the_command_line_ends_every_session(cast: Any) -> None:
    one, two = _session(cast["alice"]), _session(cast["alice"])
    call_command("users", "set-password", "alice", "--password", NEW)
    assert not _signed_in(one) and not _signed_in(two)
    assert Client().login(username="alice", password=NEW)


def test_a_password_reset_ends_every_session(cast: Any) -> None:
    alice = cast["alice"]
    alice.email = "alice@s1.example"
    alice.save()
    session = _session(alice)
    link = _reset_link(Client(), "alice@s1.example")
    assert _use_reset_link(link, NEW).status_code == 302
    assert not _signed_in(session)


def test_deactivation_ends_every_session_and_token(cast: Any) -> None:
    alice = cast["alice"]
    one, two = _session(alice), _session(alice)
    raw = token_create(actor=Actor(user=alice), name="shop", seller="S-1")[1]
    bearer = Client(headers={"Authorization": f"Bearer {raw}"})
    assert bearer.get("/api/v1/orders").status_code == 200
    call_command("users", "deactivate", "alice")
    assert not _signed_in(one) and not _signed_in(two)
    assert bearer.get("/api/v1/orders").status_code == 401
    signin = Client(REMOTE_ADDR="10.8.0.1").post("/signin/", {"username": "alice", "password": OLD})
    assert signin.status_code == 200 and b"didn" in signin.content
    event = AuditEvent.objects.get(action="user.deactivate")
    assert event.object_id == str(alice.pk) and event.to_state == "inactive"
    call_command("users", "deactivate", "alice")  # again: harmless, no second event
    assert AuditEvent.objects.filter(action="user.deactivate").count() == 1


def test_a_reset_link_is_refused_the_second_time(cast: Any) -> None:
    alice = cast["alice"]
    alice.email = "alice@s1.example"
    alice.save()
    link = _reset_link(Client(), "alice@s1.example")
    assert _use_reset_link(link, NEW).status_code == 302
    again = _use_reset_link(link, "yet-another-passphrase-3")
    assert b"no longer valid" in again.content
    assert Client().login(username="alice", password=NEW)


def test_a_reset_link_is_refused_after_a_password_change(cast: Any) -> None:
    alice = cast["alice"]
    alice.email = "alice@s1.example"
    alice.save()
    link = _reset_link(Client(), "alice@s1.example")
    here = _session(alice)
    changed = here.post(
        "/password/", {"old_password": OLD, "new_password1": NEW, "new_password2": NEW}
    )
    assert changed.status_code == 302
    late = _use_reset_link(link, "an-attackers-passphrase-5")
    assert b"no longer valid" in late.content
    assert Client().login(username="alice", password=NEW)
    assert not Client().login(username="alice", password="an-attackers-passphrase-5")
