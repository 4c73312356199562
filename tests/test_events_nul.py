"""A NUL character in an event's data (no database stores one in text): the event is rejected
naming the field, through the API and the importer alike, and the rest of its batch applies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from django.test import Client

from defectdesk.accounts.actions import token_create
from defectdesk.core.actors import SYSTEM
from defectdesk.ledger.models import Event
from defectdesk.ledger.schemas import (
    MarketplaceInfo,
    _plain_event,
    event_validate,
    model_validate_event,
)
from tests.test_import_bad_input import run_import, write_ndjson

MARKETS = {"US": MarketplaceInfo("US", "USD")}


def nul_events(make_event: Any) -> list[tuple[str, dict[str, Any]]]:
    """(the field named, the event) for a NUL in a value, an item's value and a field's name."""
    comment = make_event(
        "feedback.posted",
        event_id="nul-comment",
        order="111-0000000-0000000",
        feedback_id="F-1",
        rating=1,
        comment="broken\x00",
    )
    title = make_event(
        event_id="nul-title",
        order="111-0000000-0000001",
        items=[{"sku": "MUG-01", "title": "M\x00g", "quantity": 1}],
    )
    name = make_event(event_id="nul-name", order="111-0000000-0000002")
    name["data"]["no\x00te"] = "x"
    return [("data.comment", comment), ("data.items.0.title", title), ("data.no\\0te", name)]


def test_both_validation_paths_name_the_field(make_event: Any) -> None:
    for field, event in nul_events(make_event):
        assert _plain_event(event, MARKETS) is None
        for errors in (event_validate(event, MARKETS), model_validate_event(event, MARKETS)):
            assert isinstance(errors, list)
            assert [(e.field, e.message) for e in errors] == [
                (field, "must not contain NUL characters")
            ]


def test_the_api_rejects_the_event_and_applies_the_rest(cast: Any, make_event: Any) -> None:
    token = token_create(actor=SYSTEM, name="feed", scopes=["ingest"])[1]
    placed = make_event(order="111-0000000-0000000", event_id="ok-placed")
    bad = [event for _, event in nul_events(make_event)]
    response = Client().post(
        "/api/v1/events",
        orjson.dumps([placed, *bad]),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 1
    assert [(r["index"], r["id"], r["errors"][0]["field"]) for r in body["rejected"]] == [
        (1, "nul-comment", "data.comment"),
        (2, "nul-title", "data.items.0.title"),
        (3, "nul-name", "data.no\\0te"),
    ]
    assert list(Event.objects.values_list("event_id", flat=True)) == ["ok-placed"]


def test_an_escaped_backslash_is_not_a_nul(cast: Any, make_event: Any) -> None:
    """Text that reads \\u0000 (a backslash, then u0000) is stored as it is."""
    event = make_event(event_id="not-nul", note="C:\\u0000\\dir")
    checked = event_validate(event, MARKETS)
    assert not isinstance(checked, list)
    assert checked.data["note"] == "C:\\u0000\\dir"


def test_the_importer_rejects_the_event_and_applies_the_rest(
    tmp_path: Path, marketplace: Any, make_event: Any
) -> None:
    placed = make_event(order="111-0000000-0000000", event_id="ok-placed")
    path = tmp_path / "events.ndjson"
    write_ndjson(path, [placed, *(event for _, event in nul_events(make_event))])
    code, out = run_import(str(path))
    assert code != 0  # some lines were rejected
    assert "must not contain NUL characters" in out
    assert list(Event.objects.values_list("event_id", flat=True)) == ["ok-placed"]
