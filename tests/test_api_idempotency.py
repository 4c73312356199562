"""`Idempotency-Key` on the API's POSTs: a repeat gets the stored answer without acting again,
even 16 at once; another request with the same key is a 422."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connections
from django.test import Client
from django.utils import timezone

from defectdesk.accounts.actions import token_create
from defectdesk.api.models import IdempotentRequest
from defectdesk.appeals.models import Appeal
from defectdesk.core.actors import SYSTEM
from defectdesk.ledger.models import Event
from tests.test_appeal_support import EXPLANATION, negative_feedback

ORDER = "111-0000001-0000001"
REPLY_URL = f"/api/v1/orders/US/{ORDER}/messages"


@pytest.fixture
def seller_token(cast: dict[str, Any], make_event: Any) -> str:
    negative_feedback(make_event, order=ORDER)
    _token, raw = token_create(actor=SYSTEM, name="shop", seller="S-1")
    return raw


def _client(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _reply(client: Client, key: str, body: str = "We are sending a new mug today 🙂 <b>") -> Any:
    return client.post(
        REPLY_URL, {"body": body}, content_type="application/json", headers={"Idempotency-Key": key}
    )


def _sent() -> int:
    return Event.objects.filter(type="message.sent").count()


def test_a_repeat_returns_the_stored_answer_without_sending_again(seller_token: str) -> None:
    client = _client(seller_token)
    first = _reply(client, "reply-1")
    again = _reply(client, "reply-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert _sent() == 1


def test_the_same_key_with_another_body_is_a_422(seller_token: str) -> None:
    client = _client(seller_token)
    assert _reply(client, "reply-1").status_code == 201
    other = _reply(client, "reply-1", body="Another message")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _sent() == 1


def test_keys_belong_to_one_token(seller_token: str) -> None:
    _token, other_raw = token_create(actor=SYSTEM, name="other", seller="S-1")
    assert _reply(_client(seller_token), "k").status_code == 201
    assert _reply(_client(other_raw), "k").status_code == 201
    assert _sent() == 2


def test_a_key_is_kept_for_24_hours(seller_token: str) -> None:
    client = _client(seller_token)
    assert _reply(client, "daily").status_code == 201
    with time_machine.travel(timezone.now() + timedelta(hours=23), tick=False):
        assert _reply(client, "daily")["Idempotent-Replayed"] == "true"
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert "Idempotent-Replayed" not in _reply(client, "daily")
    assert _sent() == 2


def test_a_refused_request_frees_its_key_for_the_corrected_one(seller_token: str) -> None:
    client = _client(seller_token)
    refused = _reply(client, "fix-me", body="x" * 5000)
    assert refused.status_code == 422
    assert _reply(client, "fix-me", body="x" * 5000).status_code == 422
    assert _reply(client, "fix-me", body="Short and sweet").status_code == 201
    assert _sent() == 1


@pytest.mark.parametrize("key", ["", "a" * 256, "with space", "émoji🙂", "nul\x00"])
def test_a_malformed_key_is_a_422_naming_the_header(seller_token: str, key: str) -> None:
    try:
        reply = _reply(_client(seller_token), key)
    except ValueError:  # the test client refuses to send a NUL in a header, as HTTP does
        return
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _sent() == 0


def test_a_signed_in_user_has_keys_of_their_own(cast: dict[str, Any], make_event: Any) -> None:
    negative_feedback(make_event, order=ORDER)
    alice = Client()
    alice.force_login(cast["alice"])
    assert _reply(alice, "web-1").status_code == 201
    assert _reply(alice, "web-1")["Idempotent-Replayed"] == "true"
    assert IdempotentRequest.objects.get().owner == f"user:{cast['alice'].pk}"


@pytest.fixture
def threads_share_a_database() -> None:
    """In-process threads need PostgreSQL: SQLite's in-memory test database locks whole tables
    between threads without waiting. SQLite is raced on a file, across two gunicorn workers, in
    tests/test_api_rate_limit.py::test_sixteen_concurrent_repeats_across_workers_send_one_reply."""
    if connections["default"].vendor != "postgresql":
        pytest.skip("SQLite is raced across gunicorn workers on a file database instead")


def _concurrently(calls: int, call: Any) -> list[Any]:
    barrier = threading.Barrier(calls)

    def run(_: int) -> Any:
        barrier.wait()
        try:
            return call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(run, range(calls)))


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_repeats_send_one_reply_and_answer_alike(
    threads_share_a_database: None, cast: dict[str, Any], make_event: Any
) -> None:
    negative_feedback(make_event, order=ORDER)
    _token, raw = token_create(actor=SYSTEM, name="shop", seller="S-1")
    replies = _concurrently(16, lambda: _reply(_client(raw), "burst"))
    assert [r.status_code for r in replies] == [201] * 16
    assert len({r.content for r in replies}) == 1
    assert sum("Idempotent-Replayed" not in r for r in replies) == 1
    assert _sent() == 1


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_repeats_create_one_appeal(
    threads_share_a_database: None, cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event, order=ORDER)
    _token, raw = token_create(actor=SYSTEM, name="shop", seller="S-1")
    body = {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION}

    def create() -> Any:
        return _client(raw).post(
            "/api/v1/appeals",
            body,
            content_type="application/json",
            headers={"Idempotency-Key": "appeal-1"},
        )

    replies = _concurrently(16, create)
    assert [r.status_code for r in replies] == [201] * 16
    assert len({r.json()["id"] for r in replies}) == 1
    assert Appeal.objects.count() == 1
    other = _client(raw).post(
        "/api/v1/appeals",
        {**body, "explanation": EXPLANATION + " More."},
        content_type="application/json",
        headers={"Idempotency-Key": "appeal-1"},
    )
    assert other.status_code == 422
