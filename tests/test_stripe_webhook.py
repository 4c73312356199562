"""POST /webhooks/stripe: signed dispute events become chargebacks of the matching order."""

from __future__ import annotations

import copy
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import Client

from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Event, StripeWebhook

SECRET = "whsec_test_secret"
FIXTURE = (
    Path(__file__).resolve().parents[2] / "shared" / "samples" / "stripe" / "dispute.fixture.json"
)


def dispute() -> dict[str, Any]:
    if FIXTURE.exists():
        return orjson.loads(FIXTURE.read_bytes())
    return {
        "id": "dp_1",
        "object": "dispute",
        "amount": 1000,
        "currency": "usd",
        "charge": "ch_1PgafuB7WZ01zgkWXYmPNZs8",
        "created": 1234567890,
        "metadata": {},
        "payment_intent": None,
        "reason": "general",
        "status": "warning_needs_response",
    }


def stripe_event(kind: str, obj: dict[str, Any], event_id: str = "evt_1") -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def send(event: dict[str, Any], secret: str = SECRET, skew: int = 0) -> Any:
    body = orjson.dumps(event)
    ts = int(time.time()) + skew
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return Client().post(
        "/webhooks/stripe",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={ts},v1={sig}",
    )


@pytest.fixture(autouse=True)
def _secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ["whsec_old", SECRET]


@pytest.fixture
def paid_order(marketplace: Any, make_event: Any) -> None:
    placed = make_event(payment_ref="ch_1PgafuB7WZ01zgkWXYmPNZs8", at="2026-10-01T12:00:00Z")
    assert events_ingest([Candidate(0, placed)]).created == 1


def test_dispute_created_and_closed_become_chargeback_events(paid_order: None) -> None:
    obj = dispute()
    obj["reason"] = "product_not_received"
    response = send(stripe_event("charge.dispute.created", obj, "evt_a"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "applied"
    filed = Event.objects.get(type="chargeback.filed")
    assert filed.data == {"chargeback_id": obj["id"], "reason": "not_received", "amount": "10.00"}

    closed = copy.deepcopy(obj)
    closed["status"] = "lost"
    assert (
        send(stripe_event("charge.dispute.closed", closed, "evt_b")).json()["status"] == "applied"
    )
    assert Event.objects.get(type="chargeback.decided").data["outcome"] == "lost"


def test_repeated_delivery_is_idempotent(paid_order: None) -> None:
    event = stripe_event("charge.dispute.created", dispute(), "evt_same")
    send(event)
    send(event)
    assert StripeWebhook.objects.count() == 1
    assert Event.objects.filter(type="chargeback.filed").count() == 1


def test_dispute_without_a_matching_order_is_kept_and_reported(marketplace: Any) -> None:
    response = send(stripe_event("charge.dispute.created", dispute(), "evt_orphan"))
    assert response.status_code == 200
    assert response.json()["status"] == "unmatched"
    assert "ch_1PgafuB7WZ01zgkWXYmPNZs8" in response.json()["detail"]
    assert StripeWebhook.objects.get().status == "unmatched"


def test_metadata_names_the_order(marketplace: Any, make_event: Any) -> None:
    events_ingest([Candidate(0, make_event(order="111-7"))])
    obj = dispute()
    obj["charge"] = "ch_unknown"
    obj["metadata"] = {"marketplace": "US", "order": "111-7"}
    assert send(stripe_event("charge.dispute.created", obj, "evt_m")).json()["status"] == "applied"


def test_bad_signatures_are_refused(paid_order: None) -> None:
    event = stripe_event("charge.dispute.created", dispute(), "evt_x")
    assert send(event, secret="whsec_wrong").status_code == 400
    assert send(event, skew=-301).status_code == 400
    assert send(event, skew=301).status_code == 400
    no_header = Client().post(
        "/webhooks/stripe", orjson.dumps(event), content_type="application/json"
    )
    assert no_header.status_code == 400
    assert not StripeWebhook.objects.exists()
    assert send(event, skew=-299).status_code == 200


def test_rotated_secrets_are_all_accepted(paid_order: None) -> None:
    event = stripe_event("charge.dispute.created", dispute(), "evt_rot")
    assert send(event, secret="whsec_old").status_code == 200
