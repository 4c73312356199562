"""An owner invites a colleague by e-mail; the colleague opens the link, chooses a name and a
password, and signs in to the seller's pages (no console errors, no CSP violations)."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail

from defectdesk.accounts.models import Membership

PASSWORD = "correct-horse-1"
NEW = "a-much-longer-passphrase-7"


def test_an_owner_invites_and_the_colleague_joins(
    transactional_db: Any, live_server: Any, cast: dict[str, Any], open_page: Any
) -> None:
    base = live_server.url
    alice = open_page("alice")
    page = alice.page
    page.goto(f"{base}/signin/")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/settings/users/")
    page.get_by_label("E-mail").fill("dora@s1.example")
    page.get_by_label("Role").select_option("read_only")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_url(f"{base}/settings/users/")
    assert page.get_by_text("An invitation was sent to dora@s1.example").is_visible()
    alice.check_accessible()
    alice.shoot("invite-01-sent")

    (message,) = [m for m in mail.outbox if m.to == ["dora@s1.example"]]
    link = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", message.body)
    assert link is not None
    dora = open_page("dora")
    dora.page.goto(f"{base}{link.group(1)}")
    dora.check_accessible()
    dora.shoot("invite-02-choose-name")
    dora.allowed_statuses = {200}
    dora.page.get_by_label("Choose a user name").fill("carol")
    dora.page.get_by_label("Password", exact=True).fill(NEW)
    dora.page.get_by_label("Password again").fill(NEW)
    dora.page.get_by_role("button", name="Create account and join").click()
    dora.page.wait_for_load_state()
    assert dora.page.get_by_text("this user name is taken").is_visible()
    dora.page.get_by_label("Choose a user name").fill("dora")
    dora.page.get_by_label("Password", exact=True).fill(NEW)
    dora.page.get_by_label("Password again").fill(NEW)
    dora.page.get_by_role("button", name="Create account and join").click()
    dora.page.wait_for_url(f"{base}/signin/")
    assert dora.page.get_by_text("Your account is ready").is_visible()
    dora.page.get_by_label("User name").fill("dora")
    dora.page.get_by_label("Password").fill(NEW)
    dora.page.get_by_role("button", name="Sign in").click()
    dora.page.wait_for_url(f"{base}/")
    dora.check_accessible()
    dora.shoot("invite-03-signed-in")
    assert Membership.objects.get(user__username="dora").role == "read_only"
    page.goto(f"{base}/settings/users/")
    assert page.get_by_role("cell", name="dora", exact=True).is_visible()
