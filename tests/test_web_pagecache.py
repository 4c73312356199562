"""Account health and Orders come from a per-process page cache; what must still differ per
request (the CSRF token, flash messages, the header) does."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.test import Client

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _signed_in(username: str) -> Client:
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=username, password="correct-horse-1")
    return browser


def test_each_browser_gets_a_working_csrf_token_from_a_cached_page(cast: dict[str, Any]) -> None:
    first, second = _signed_in("alice"), _signed_in("alice")
    for path in ("/", "/orders/"):
        pages = [b.get(path).content.decode() for b in (first, second)]
        tokens = [CSRF.search(p).group(1) for p in pages]  # type: ignore[union-attr]
        assert tokens[0] != tokens[1]
    # The second browser's page came from the cache: its token still signs it out.
    response = second.post("/signout/", {"csrfmiddlewaretoken": tokens[1]})
    assert response.status_code == 302
    assert second.get("/orders/").status_code == 302  # signed out


def test_the_header_follows_the_viewer(cast: dict[str, Any]) -> None:
    alice_page = _signed_in("alice").get("/orders/").content.decode()
    bob_page = _signed_in("bob").get("/orders/").content.decode()
    assert "Sign out alice" in alice_page and "Sign out bob" not in alice_page
    assert "Sign out bob" in bob_page
    assert "API tokens" in alice_page and "API tokens" not in bob_page  # owner only


def test_flash_messages_are_shown_even_when_the_page_is_cached(cast: dict[str, Any]) -> None:
    browser = _signed_in("alice")
    for path in ("/", "/orders/"):
        assert b"Saved for the test" not in browser.get(path).content  # now cached
        # A message left for the next page, as a view that redirects here would leave it.
        storage = CookieStorage(HttpRequest())
        browser.cookies[CookieStorage.cookie_name] = storage._encode(
            [Message(messages.SUCCESS, "Saved for the test")]
        )
        assert "Saved for the test" in browser.get(path).content.decode()
        assert b"Saved for the test" not in browser.get(path).content  # shown once
