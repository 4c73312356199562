"""API writes without a live credential are a 401 with a Bearer challenge, never a CSRF 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from defectdesk.accounts.actions import token_create, token_revoke
from defectdesk.core.actors import SYSTEM

WRITES = [
    "/api/v1/notifications/read",
    "/api/v1/appeals",
    "/api/v1/orders/US/111-0000001/messages",
]


@pytest.mark.parametrize("url", WRITES)
def test_anonymous_write_is_a_401(db: Any, url: str) -> None:
    reply = Client(enforce_csrf_checks=True).post(url, "{}", content_type="application/json")
    assert reply.status_code == 401
    assert reply["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("url", WRITES)
def test_revoked_token_write_is_a_401(cast: Any, url: str) -> None:
    token, raw = token_create(actor=SYSTEM, name="t", seller="S-1")
    token_revoke(actor=SYSTEM, token_id=token.pk)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    reply = client.post(url, "{}", content_type="application/json")
    assert reply.status_code == 401


def test_signed_in_write_without_csrf_token_is_still_refused(cast: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["alice"])
    reply = client.post(
        "/api/v1/notifications/read", '{"ids": []}', content_type="application/json"
    )
    assert reply.status_code == 403
