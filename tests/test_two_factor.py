"""Two-factor sign-in: required for reviewers and operators, optional for merchants."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.test_appeal_support import token_client
from tests.two_factor import code_for, code_from_secret, give_app

PASSWORD = "correct-horse-1"
MID_STEP = datetime(2026, 11, 2, 10, 0, 15, tzinfo=UTC)
"""Fifteen seconds into a 30-second step: codes of this and the previous step are both valid."""

pytestmark = pytest.mark.django_db


def _signed_in(username: str) -> Client:
    """A client signed in through the sign-in form, as a person would."""
    client = Client()
    response = client.post("/signin/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _verify(client: Client, code: str, next_: str = "/review/") -> Any:
    return client.post("/two-factor/verify/", {"code": code, "next": next_})


def _set_up(client: Client) -> list[str]:
    """Go through set-up with the shown secret; returns the recovery codes shown once."""
    page = client.get("/two-factor/setup/?next=/review/")
    text = page.content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', text)
    assert secret is not None
    assert "otpauth://totp/DefectDesk" in text
    done = client.post("/two-factor/setup/", {"code": code_from_secret(secret[1]), "next": "/"})
    assert done.status_code == 200
    return re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())


def test_a_reviewer_without_a_device_is_sent_to_set_up_then_reaches_the_queue(
    cast: dict[str, Any],
) -> None:
    rita = _signed_in("rita")
    sent = rita.get("/review/")
    assert sent.status_code == 302 and sent["Location"] == "/two-factor/?next=%2Freview%2F"
    assert rita.get(sent["Location"])["Location"] == "/two-factor/setup/?next=%2Freview%2F"
    assert rita.get("/api/v1/review/queue").status_code == 403
    codes = _set_up(rita)
    assert len(codes) == 10
    assert rita.get("/review/").status_code == 200
    assert rita.get("/api/v1/review/queue").status_code == 200


def test_after_a_totp_code_the_queue_opens_and_the_same_code_replayed_is_refused(
    cast: dict[str, Any],
) -> None:
    device = give_app(cast["rita"])
    with time_machine.travel(MID_STEP, tick=False):
        code = code_for(device)
        first = _signed_in("rita")
        assert _verify(first, code)["Location"] == "/review/"
        assert first.get("/review/").status_code == 200
        second = _signed_in("rita")
        refused = _verify(second, code)
        assert refused.status_code == 200
        assert "not valid or has already been used" in refused.content.decode()
        assert second.get("/review/").status_code == 302
    device.refresh_from_db()
    assert device.last_t == int(MID_STEP.timestamp()) // 30


def test_a_previous_window_code_used_twice_is_refused_the_second_time(
    cast: dict[str, Any],
) -> None:
    device = give_app(cast["rita"])
    with time_machine.travel(MID_STEP, tick=False) as clock:
        previous = code_for(device, at=time.time() - 30)
        assert previous != code_for(device)
        assert _verify(_signed_in("rita"), previous).status_code == 302
        again = _signed_in("rita")
        assert _verify(again, previous).status_code == 200
        assert again.get("/review/").status_code == 302
        # The current step's code is still accepted once: it is later than the last used
        # (after the short wait a wrong code costs).
        clock.shift(2)
        assert _verify(again, code_for(device)).status_code == 302


def test_a_code_older_than_the_last_accepted_one_is_refused(cast: dict[str, Any]) -> None:
    device = give_app(cast["rita"])
    with time_machine.travel(MID_STEP, tick=False):
        assert _verify(_signed_in("rita"), code_for(device)).status_code == 302
        late = _signed_in("rita")
        assert _verify(late, code_for(device, at=time.time() - 30)).status_code == 200


def test_a_recovery_code_works_once(cast: dict[str, Any]) -> None:
    codes = _set_up(_signed_in("rita"))
    lost = _signed_in("rita")
    assert _verify(lost, codes[0].upper())["Location"] == "/review/"
    assert lost.get("/review/").status_code == 200
    with time_machine.travel(time.time(), tick=False) as clock:
        again = _signed_in("rita")
        assert _verify(again, codes[0]).status_code == 200
        assert again.get("/review/").status_code == 302
        clock.shift(2)  # past the short wait a wrong code costs
        assert _verify(again, codes[1]).status_code == 302
    assert StaticToken.objects.filter(device__user=cast["rita"]).count() == 8


def test_merchants_are_not_forced_but_may_choose_it(cast: dict[str, Any]) -> None:
    alice = _signed_in("alice")
    assert alice.get("/").status_code == 200
    assert alice.get("/orders/").status_code == 200
    assert alice.get("/api/v1/orders").status_code != 403
    _set_up(alice)
    later = _signed_in("alice")
    assert later.get("/orders/")["Location"] == "/two-factor/?next=%2Forders%2F"
    assert _verify(later, code_for(give_app(cast["alice"]), at=time.time() + 30)).status_code == 302
    assert later.get("/orders/").status_code == 200


def test_an_operator_is_forced_for_operator_pages_and_django_admin(cast: dict[str, Any]) -> None:
    otto = _signed_in("otto")
    for url in ("/operator/", "/admin/", "/admin/otp_totp/totpdevice/"):
        sent = otto.get(url)
        assert sent.status_code == 302 and sent["Location"].startswith("/two-factor/?next="), url
    _set_up(otto)
    assert otto.get("/operator/").status_code == 200
    assert otto.get("/admin/").status_code == 200
    assert otto.get("/admin/otp_totp/totpdevice/").status_code == 200


def test_api_tokens_are_not_affected(cast: dict[str, Any]) -> None:
    reviewer_token = token_client(scopes=["review"])
    assert reviewer_token.get("/api/v1/review/queue").status_code == 200


@pytest.mark.parametrize(
    "code", ["", "   ", "abc", "12345", "1234567", "x" * 40, "<script>", "000000", "12\x00456"]
)
def test_bad_codes_get_a_clear_error_not_a_crash(cast: dict[str, Any], code: str) -> None:
    give_app(cast["rita"])
    rita = _signed_in("rita")
    response = _verify(rita, code)
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    set_up = _signed_in("alice").post("/two-factor/setup/", {"code": code})
    assert set_up.status_code == 200 and 'class="field-error"' in set_up.content.decode()


def test_a_foreign_next_is_not_followed(cast: dict[str, Any]) -> None:
    device = give_app(cast["rita"])
    rita = _signed_in("rita")
    assert _verify(rita, code_for(device), "https://evil.example/")["Location"] == "/"


def test_repeated_wrong_codes_are_throttled(cast: dict[str, Any]) -> None:
    device = give_app(cast["rita"])
    rita = _signed_in("rita")
    for _ in range(3):
        _verify(rita, "000001")
    device.refresh_from_db()
    assert device.throttling_failure_count >= 1
    throttled = _verify(rita, code_for(device))
    assert throttled.status_code == 429
    assert "Too many wrong codes" in throttled.content.decode()


def test_reset_removes_a_lost_device_and_asks_for_set_up_again(cast: dict[str, Any]) -> None:
    device = give_app(cast["rita"])
    rita = _signed_in("rita")
    assert _verify(rita, code_for(device)).status_code == 302
    call_command("users", "reset-two-factor", "rita")
    assert not TOTPDevice.objects.filter(user=cast["rita"]).exists()
    assert rita.get("/review/").status_code == 302
    sent = _signed_in("rita").get("/two-factor/")
    assert sent["Location"].startswith("/two-factor/setup/")
