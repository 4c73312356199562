"""An order's events are its seller's: another seller's event on the same reference stays out."""

from __future__ import annotations

from typing import Any

from django.test import Client

from defectdesk.ledger.ingest import Candidate, events_ingest


def test_foreign_sellers_early_event_is_not_shown(cast: Any, make_event: Any) -> None:
    ref = "111-0000042"
    early = make_event(
        "message.received",
        order=ref,
        seller="S-2",
        at="2026-10-01T10:00:00Z",
        message_id="M-FOREIGN",
        body="CANARY-S2-BODY",
    )
    assert not events_ingest([Candidate(0, early)]).rejected
    placed = make_event("order.placed", order=ref, seller="S-1", at="2026-10-01T12:00:00Z")
    assert not events_ingest([Candidate(0, placed)]).rejected
    client = Client()
    client.force_login(cast["alice"])
    api = client.get(f"/api/v1/orders/US/{ref}")
    assert api.status_code == 200
    assert [e["type"] for e in api.json()["events"]] == ["order.placed"]
    assert "CANARY-S2-BODY" not in api.content.decode()
    page = client.get(f"/orders/US/{ref}/")
    assert page.status_code == 200
    assert "CANARY-S2-BODY" not in page.content.decode()
