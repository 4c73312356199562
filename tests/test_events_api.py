"""POST /api/v1/events: the same ingestion through HTTP, with tokens and limits."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client

from defectdesk.accounts.actions import token_create
from defectdesk.core.actors import SYSTEM
from defectdesk.ledger.models import Event
from tests.test_import_bad_input import bad_events, valid_events


@pytest.fixture
def ingest_token(cast: Any) -> str:
    return token_create(actor=SYSTEM, name="feed", scopes=["ingest"])[1]


def post(body: bytes, token: str | None, content_type: str = "application/json") -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().post("/api/v1/events", body, content_type=content_type, **headers)


def test_valid_and_bad_events_through_the_api(ingest_token: str, make_event: Any) -> None:
    good = valid_events(make_event, 1000)
    bad = bad_events(make_event)
    items: list[Any] = good[:500] + [b for _, _, b in bad if isinstance(b, dict)] + good[500:]
    response = post(orjson.dumps(items), ingest_token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 1000
    assert body["duplicates"] == 0
    rejected = {r["id"]: r for r in body["rejected"]}
    for field, label, event in bad:
        if isinstance(event, dict):
            reject = rejected[event["id"]] if event["id"] != good[0]["id"] else None
            if reject is None:  # the reused id: find it by index
                reject = next(r for r in body["rejected"] if r["index"] == items.index(event))
            assert reject["index"] == items.index(event), label
            assert reject["errors"][0]["field"] == field, label
    assert Event.objects.count() == 1000

    again = post(orjson.dumps(items), ingest_token).json()
    assert (again["created"], again["duplicates"]) == (0, 1000)


def test_ndjson_body_and_malformed_line(ingest_token: str, make_event: Any) -> None:
    body = orjson.dumps(make_event(event_id="n-1")) + b"\n{not json\n"
    response = post(body, ingest_token, "application/x-ndjson")
    assert response.status_code == 200
    data = response.json()
    assert data["created"] == 1
    assert data["rejected"] == [
        {
            "index": 1,
            "id": None,
            "errors": [{"field": "line", "message": data["rejected"][0]["errors"][0]["message"]}],
        }
    ]
    assert "not valid JSON" in data["rejected"][0]["errors"][0]["message"]


def test_malformed_json_array_is_400(ingest_token: str) -> None:
    response = post(b'[{"id": 1,', ingest_token)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


def test_over_ten_thousand_events_is_413_and_nothing_applied(
    ingest_token: str, make_event: Any
) -> None:
    items = [make_event(order=f"o-{i}", event_id=f"e-{i}") for i in range(10_001)]
    response = post(orjson.dumps(items), ingest_token)
    assert response.status_code == 413
    assert "10,001" in response.json()["detail"]
    assert not Event.objects.exists()


def test_no_token_is_401_and_seller_token_is_403(cast: Any, make_event: Any) -> None:
    body = orjson.dumps([make_event()])
    assert post(body, None).status_code == 401
    assert post(body, "dd_nope_nope").status_code == 401
    seller_token = token_create(actor=SYSTEM, name="s1", seller="S-1")[1]
    response = post(body, seller_token)
    assert response.status_code == 403
    assert response.json()["detail"]
    assert not Event.objects.exists()


def test_revoked_token_is_401(cast: Any, make_event: Any) -> None:
    from defectdesk.accounts.actions import token_revoke

    token, raw = token_create(actor=SYSTEM, name="feed", scopes=["ingest"])
    token_revoke(actor=SYSTEM, token_id=token.pk)
    assert post(orjson.dumps([make_event()]), raw).status_code == 401
