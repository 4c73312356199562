"""Sign-in is throttled per user name and address, on /signin/ and /admin/login/ alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

LIMIT = 5


def _post(url: str, username: str, password: str, address: str, **extra: Any) -> Any:
    client = Client(REMOTE_ADDR=address, **extra)
    return client, client.post(url, {"username": username, "password": password})


def _fail(url: str, username: str, address: str, times: int = LIMIT, **extra: Any) -> None:
    for _ in range(times):
        _, reply = _post(url, username, "wrong-password", address, **extra)
        assert reply.status_code in (200, 429)


def test_wrong_passwords_lock_the_account_from_that_address_only(cast: Any) -> None:
    _fail("/signin/", "alice", "10.0.0.1", 200)
    client, locked = _post("/signin/", "alice", "correct-horse-1", "10.0.0.1")
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert client.get("/orders/").status_code == 302
    client, owner = _post("/signin/", "alice", "correct-horse-1", "10.0.0.2")
    assert owner.status_code == 302
    assert client.get("/orders/").status_code == 200


def test_unknown_and_known_user_names_get_the_same_answer(cast: Any) -> None:
    _fail("/signin/", "alice", "10.0.0.3")
    _fail("/signin/", "nobody-here", "10.0.0.3")
    known = _post("/signin/", "alice", "x", "10.0.0.3")[1]
    unknown = _post("/signin/", "nobody-here", "x", "10.0.0.3")[1]
    assert known.status_code == unknown.status_code == 429
    strip = [line for line in known.content.split(b"\n") if b"csrf" not in line]
    assert strip == [line for line in unknown.content.split(b"\n") if b"csrf" not in line]


def test_admin_sign_in_is_throttled_too(cast: Any) -> None:
    _fail("/admin/login/", "otto", "10.0.0.4")
    assert _post("/admin/login/", "otto", "correct-horse-1", "10.0.0.4")[1].status_code == 429


def test_forwarded_for_is_ignored_unless_behind_a_proxy(cast: Any) -> None:
    _fail("/signin/", "alice", "10.0.0.5")
    spoofed = _post(
        "/signin/", "alice", "correct-horse-1", "10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4"
    )
    assert spoofed[1].status_code == 429


@override_settings(BEHIND_PROXY=True)
def test_behind_a_proxy_the_forwarded_address_counts(cast: Any) -> None:
    _fail("/signin/", "alice", "127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    blocked = _post(
        "/signin/", "alice", "correct-horse-1", "127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert blocked[1].status_code == 429
    other = _post(
        "/signin/", "alice", "correct-horse-1", "127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert other[1].status_code == 302


@pytest.mark.parametrize("password", ["password123", "12345678901", "alice1234"])
def test_weak_passwords_are_refused(cast: Any, password: str) -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password(password, cast["alice"])
