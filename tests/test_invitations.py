"""An owner adds people by e-mail invitation, and the answer never tells whether an address or a
user name exists anywhere (user names are unique across sellers)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from defectdesk.accounts.models import Invitation, Membership
from defectdesk.accounts.selectors import INVITATION_NAMES_REFUSED
from defectdesk.core.models import AuditEvent

PASSWORD = "a-much-longer-passphrase-7"


def _client(user: Any = None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _invite(owner: Client, email: str, capture: Any, role: str = "staff") -> str:
    """Send an invitation and return the page path its e-mail links to."""
    mail.outbox.clear()
    with capture(execute=True):
        sent = owner.post("/settings/users/", {"email": email, "role": role})
    assert sent.status_code == 302, sent.content[:500]
    (message,) = mail.outbox
    assert message.to == [email]
    found = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", message.body)
    assert found is not None, message.body
    return found.group(1)


def _shown(owner: Client) -> str:
    """The owner's page after an invitation, without the per-request CSRF token."""
    page = owner.get("/settings/users/").content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def test_the_answer_is_the_same_whether_the_address_has_an_account_or_not(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    carol = cast["carol"]
    carol.email = "carol@s2.example"
    carol.save()
    alice = _client(cast["alice"])
    _invite(alice, "carol@s2.example", django_capture_on_commit_callbacks)
    known = _shown(alice).replace("carol@s2.example", "ADDRESS")
    Invitation.objects.all().delete()
    _invite(alice, "nobody@s9.example", django_capture_on_commit_callbacks)
    unknown = _shown(alice).replace("nobody@s9.example", "ADDRESS")
    assert known == unknown
    assert "carol" not in known and "S-2" not in known


@pytest.mark.parametrize("name", ["carol", "rita", "otto", "nobody-at-all"])
def test_the_old_add_user_form_tells_nothing_about_a_user_name(
    cast: dict[str, Any], name: str
) -> None:
    reply = _client(cast["alice"]).post(
        "/settings/users/", {"username": name, "password": "long-enough-1", "role": "staff"}
    )
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", reply.content.decode())
    assert reply.status_code == 200 and "taken" not in body and name not in body
    assert "must be an e-mail address" in body
    assert not Membership.objects.filter(seller__external_id="S-1", user__username=name)


def test_a_new_person_chooses_a_name_and_joins_with_the_role(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    link = _invite(
        _client(cast["alice"]), "dora@s1.example", django_capture_on_commit_callbacks, "read_only"
    )
    dora = _client()
    page = dora.get(link)
    assert page.status_code == 200 and "Choose a user name" in page.content.decode()
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "same-origin"
    taken = dora.post(link, {"username": "carol", "password1": PASSWORD, "password2": PASSWORD})
    assert "this user name is taken" in taken.content.decode()
    weak = dora.post(link, {"username": "dora", "password1": "12345678", "password2": "12345678"})
    assert "entirely numeric" in weak.content.decode()
    differ = dora.post(link, {"username": "dora", "password1": PASSWORD, "password2": "x"})
    assert "the two passwords differ" in differ.content.decode()
    done = dora.post(link, {"username": "dora", "password1": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/signin/"
    member = Membership.objects.get(user__username="dora")
    assert member.seller.external_id == "S-1" and member.role == "read_only"
    assert member.user.email == "dora@s1.example"
    event = AuditEvent.objects.get(action="user.invitation_accept")
    assert event.seller_id == member.seller_id and event.actor_id == member.user_id
    assert AuditEvent.objects.filter(action="user.invite", seller_id=member.seller_id).count() == 1
    assert Client().login(username="dora", password=PASSWORD)
    again = _client().post(
        link, {"username": "dora2", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert again.status_code == 404 and "no longer valid" in again.content.decode()


def test_someone_with_an_account_signs_in_and_joins_keeping_their_name(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    link = _invite(_client(cast["alice"]), "carol@s2.example", django_capture_on_commit_callbacks)
    anonymous = _client().get(link).content.decode()
    assert f"/signin/?next={link}" in anonymous
    carol = _client(cast["carol"])
    assert "You are signed in as carol" in carol.get(link).content.decode()
    joined = carol.post(link)
    assert joined.status_code == 302
    roles = dict(
        Membership.objects.filter(user=cast["carol"]).values_list("seller__external_id", "role")
    )
    assert roles == {"S-1": "staff", "S-2": "owner"}
    assert "carol" in _client(cast["alice"]).get("/settings/users/").content.decode()


def test_a_member_who_accepts_keeps_the_role_they_have(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    link = _invite(
        _client(cast["alice"]), "bob@s1.example", django_capture_on_commit_callbacks, "owner"
    )
    assert _client(cast["bob"]).post(link).status_code == 302
    assert Membership.objects.get(user=cast["bob"]).role == "read_only"


def test_a_link_answers_only_a_few_taken_names_then_dies(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    link = _invite(_client(cast["alice"]), "eve@s1.example", django_capture_on_commit_callbacks)
    eve = _client()
    for name in ["alice", "bob", "carol", "rita", "otto"][:INVITATION_NAMES_REFUSED]:
        reply = eve.post(link, {"username": name, "password1": PASSWORD, "password2": PASSWORD})
        assert reply.status_code in (200, 404)
    final = eve.post(link, {"username": "eve", "password1": PASSWORD, "password2": PASSWORD})
    assert final.status_code == 404
    assert not Membership.objects.filter(user__username="eve").exists()


def test_an_expired_link_is_refused(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    link = _invite(_client(cast["alice"]), "fay@s1.example", django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        late = _client().get(link)
    assert late.status_code == 404 and "no longer valid" in late.content.decode()


@pytest.mark.parametrize(
    "key",
    [
        "nothing",
        "dd_00000000_" + "x" * 43,
        "%F0%9F%98%80",
        "a" * 5000,
        "%3Cb%3E",
        "%E4%B8%AD%E6%96%87",
    ],
)
def test_an_unknown_key_is_a_404_for_everyone(cast: dict[str, Any], key: str) -> None:
    for who in (None, cast["alice"], cast["rita"]):
        reply = _client(who).get(f"/invitations/{key}/")
        assert reply.status_code == 404


@pytest.mark.parametrize(
    "email", ["not-an-email", "<b>x</b>@x", "a\x00b@example.com", "=1+1@x", "", "x" * 300]
)
def test_a_bad_address_is_refused_naming_the_field(cast: dict[str, Any], email: str) -> None:
    reply = _client(cast["alice"]).post("/settings/users/", {"email": email, "role": "staff"})
    assert reply.status_code == 200
    assert "must be an e-mail address" in reply.content.decode()
    assert not Invitation.objects.exists()


def test_only_owners_invite(cast: dict[str, Any]) -> None:
    reply = _client(cast["bob"]).post(
        "/settings/users/", {"email": "x@s1.example", "role": "owner"}
    )
    assert reply.status_code == 403
    assert not Invitation.objects.exists()


def test_a_seller_has_at_most_fifty_invitations_waiting(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from defectdesk.accounts.actions import INVITATIONS_WAITING, invitation_create
    from defectdesk.accounts.models import Seller
    from defectdesk.core.actors import Actor

    s1 = Seller.objects.get(external_id="S-1")
    for n in range(INVITATIONS_WAITING):
        invitation_create(
            actor=Actor(user=cast["alice"]), seller=s1, email=f"p{n}@x.example", role="staff"
        )
    reply = _client(cast["alice"]).post(
        "/settings/users/", {"email": "one@more.example", "role": "staff"}
    )
    assert "invitations are waiting to be accepted" in reply.content.decode()
    assert Invitation.objects.count() == INVITATIONS_WAITING


def test_a_seller_name_with_a_line_break_still_sends_the_mail(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from defectdesk.accounts.models import Seller

    Seller.objects.filter(external_id="S-1").update(name="Shop\r\nBcc: x@evil.example \u5546\u5e97")
    _invite(_client(cast["alice"]), "gus@s1.example", django_capture_on_commit_callbacks)
    assert "\n" not in mail.outbox[0].subject and "\u5546\u5e97" in mail.outbox[0].subject
