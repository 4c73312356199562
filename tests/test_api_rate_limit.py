"""Rate limits on token-authenticated API requests: per token and per client address, with
`RateLimit-*` headers, 429 with `Retry-After`, and one count across gunicorn's processes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from defectdesk.accounts.actions import token_create, token_revoke
from defectdesk.core.actors import SYSTEM
from tests.served_api import ORDER, served

URL = "/api/v1/defects"


@pytest.fixture
def raw(cast: dict[str, Any]) -> str:
    return token_create(actor=SYSTEM, name="shop", seller="S-1")[1]


def _get(raw: str, url: str = URL, **headers: str) -> Any:
    return Client(headers={"Authorization": f"Bearer {raw}", **headers}).get(url)


def test_answers_under_the_limit_carry_the_ratelimit_headers(raw: str, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_TOKEN = 5
    with time_machine.travel(timezone.now().replace(second=1), tick=False):
        replies = [_get(raw) for _ in range(5)]
    assert [r.status_code for r in replies] == [200] * 5
    assert [r["RateLimit-Remaining"] for r in replies] == ["4", "3", "2", "1", "0"]
    assert {r["RateLimit-Limit"] for r in replies} == {"5"}
    assert all(1 <= int(r["RateLimit-Reset"]) <= 60 for r in replies)


def test_a_token_over_its_limit_gets_429_with_retry_after(raw: str, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_TOKEN = 3
    with time_machine.travel(timezone.now().replace(second=15), tick=False):
        statuses = [_get(raw).status_code for _ in range(3)]
        refused = _get(raw)
        other = token_create(actor=SYSTEM, name="other", seller="S-1")[1]
        assert _get(other).status_code == 200  # another token has its own count
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited" and "token" in body["detail"]
    assert refused["Retry-After"] == "45"
    assert refused["RateLimit-Remaining"] == "0"
    assert refused["RateLimit-Reset"] == "45"
    with time_machine.travel(timezone.now().replace(second=0) + _minute(), tick=False):
        assert _get(raw).status_code == 200  # the next window


def _minute() -> Any:
    from datetime import timedelta

    return timedelta(minutes=1)


def test_wrong_tokens_count_against_the_address(cast: Any, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_ADDRESS = 4
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        guesses = [_get(f"dd_0000000{i}_guess").status_code for i in range(4)]
        over = _get("dd_00000009_guess")
    assert guesses == [401] * 4
    assert over.status_code == 429
    assert "address" in over.json()["detail"]


def test_the_address_behind_a_proxy_is_the_forwarded_one_only_when_configured(
    cast: Any, settings: Any
) -> None:
    settings.API_RATE_LIMIT_PER_ADDRESS = 2
    sent = {"X-Forwarded-For": "203.0.113.9"}
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        settings.BEHIND_PROXY = False
        assert [_get("dd_00000001_x", **sent).status_code for _ in range(3)] == [401, 401, 429]
        settings.BEHIND_PROXY = True
        assert [_get("dd_00000001_x", **sent).status_code for _ in range(3)] == [401, 401, 429]
        other = {"X-Forwarded-For": "198.51.100.7"}
        assert _get("dd_00000001_x", **other).status_code == 401


def test_a_revoked_token_is_refused_on_the_very_next_request(raw: str, cast: Any) -> None:
    assert _get(raw).status_code == 200
    from defectdesk.accounts.models import ApiToken

    token_revoke(actor=SYSTEM, token_id=ApiToken.objects.get(name="shop").pk)
    refused = _get(raw)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert refused.json()["code"] == "unauthenticated"


def test_sessions_are_not_counted(cast: Any, settings: Any) -> None:
    settings.API_RATE_LIMIT_PER_TOKEN = 1
    settings.API_RATE_LIMIT_PER_ADDRESS = 1
    client = Client()
    client.force_login(cast["alice"])
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    assert "RateLimit-Limit" not in client.get(URL)


def _fetch(base: str, raw: str, path: str = "/api/v1/defects") -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {raw}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers)


@pytest.mark.parametrize("store", ["database", "redis"])
@pytest.mark.django_db(transaction=True)
def test_the_limit_holds_across_two_gunicorn_workers(tmp_path: Path, store: str) -> None:
    extra = {"API_RATE_LIMIT_PER_TOKEN": "25", "API_RATE_LIMIT_WINDOW": "3600"}
    if store == "redis":
        extra["REDIS_URL"] = "redis://127.0.0.1:6379/3"
        extra["CACHE_KEY_PREFIX"] = f"ratelimit-test-{uuid.uuid4().hex}"  # a fresh count
    with served(tmp_path, **extra) as api:
        one, two = api["tokens"]["one"], api["tokens"]["two"]
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: _fetch(api["base"], one), range(40)))
            under = list(pool.map(lambda _: _fetch(api["base"], two), range(25)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 25 + [429] * 15, statuses
    refused = [headers for status, headers in answers if status == 429]
    assert all(int(h["Retry-After"]) > 0 and h["RateLimit-Remaining"] == "0" for h in refused)
    assert [status for status, _ in under] == [200] * 25  # under the limit: never refused


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_repeats_across_workers_send_one_reply(tmp_path: Path) -> None:
    with served(tmp_path) as api:
        raw = api["tokens"]["one"]

        def send(_: int) -> tuple[int, bytes]:
            request = urllib.request.Request(
                f"{api['base']}/api/v1/orders/US/{ORDER}/messages",
                data=json.dumps({"body": "On its way 🙂"}).encode(),
                headers={
                    "Authorization": f"Bearer {raw}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": "burst-1",
                },
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, reply.read()

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(send, range(16)))
        order = json.loads(
            urllib.request.urlopen(
                urllib.request.Request(
                    f"{api['base']}/api/v1/orders/US/{ORDER}",
                    headers={"Authorization": f"Bearer {raw}"},
                ),
                timeout=30,
            ).read()
        )
    assert [status for status, _ in answers] == [201] * 16
    assert len({body for _, body in answers}) == 1
    assert [e["type"] for e in order["events"]].count("message.sent") == 1
