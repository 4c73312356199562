"""Operators manage webhook endpoints in the console and through the API with an admin token."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from defectdesk.accounts.actions import token_create
from defectdesk.core.actors import SYSTEM, Actor
from defectdesk.core.models import AuditEvent
from defectdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from defectdesk.webhooks.outbox import webhook_emit

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def admin(cast: dict[str, Any]) -> Client:
    _, raw = token_create(actor=SYSTEM, name="ops", scopes=["admin"])
    return _bearer(raw)


def test_the_console_registers_an_endpoint_and_shows_its_secret_once(
    cast: dict[str, Any],
) -> None:
    client = Client()
    client.force_login(cast["otto"])
    page = client.post(
        "/operator/webhooks/",
        {
            "url": "https://hooks.example.com/dd",
            "description": "<script>x</script> 市场",
            "event_types": ["appeal.decided", "message.sent"],
        },
    )
    assert page.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    html = page.content.decode()
    assert endpoint.secret in html
    assert "<script>x</script>" not in html
    assert page["Cache-Control"] == "no-store"
    assert endpoint.event_types == ["appeal.decided", "message.sent"]
    again = client.get("/operator/webhooks/").content.decode()
    assert endpoint.secret not in again
    assert endpoint.secret not in client.get(f"/operator/webhooks/{endpoint.pk}/").content.decode()
    audit = AuditEvent.objects.get(action="webhook.register")
    assert audit.actor_id == cast["otto"].pk
    assert endpoint.secret not in str(audit.data)


def test_the_console_refuses_an_address_of_the_service_itself(cast: dict[str, Any]) -> None:
    client = Client()
    client.force_login(cast["otto"])
    page = client.post(
        "/operator/webhooks/",
        {"url": "http://127.0.0.1:8000/webhooks/stripe", "event_types": ["message.sent"]},
    )
    assert page.status_code == 422
    assert "points at this DefectDesk service itself" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotate_disable_enable_and_resend_from_the_console(cast: dict[str, Any]) -> None:
    endpoint, secret = _endpoint()
    with transaction.atomic():
        webhook_emit("message.sent", {"message_id": "m1", "body": "hi"})
    delivery = WebhookDelivery.objects.get()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=delivery.created_at,
        outcome="failed",
        status_code=503,
        duration_ms=12,
        error="the receiver answered 503",
    )
    client = Client()
    client.force_login(cast["otto"])
    log = client.get(f"/operator/webhooks/{endpoint.pk}/").content.decode()
    assert delivery.event_id in log and "HTTP 503" in log and "12 ms" in log
    rotated = client.post(f"/operator/webhooks/{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret != secret and endpoint.secret in rotated.content.decode()
    assert endpoint.previous_secret == secret
    assert client.post(f"/operator/webhooks/{endpoint.pk}/disable/").status_code == 303
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert client.post(f"/operator/webhooks/{endpoint.pk}/enable/").status_code == 303
    resent = client.post(f"/operator/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/")
    assert resent.status_code == 303
    assert list(
        AuditEvent.objects.filter(action__startswith="webhook.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "webhook.register",
        "webhook.rotate",
        "webhook.disable",
        "webhook.enable",
        "webhook.resend",
    ]


def test_merchants_and_reviewers_do_not_see_the_pages(cast: dict[str, Any]) -> None:
    endpoint, _ = _endpoint()
    otto = Client()
    otto.force_login(cast["otto"])
    huge = "9223372036854775808"
    assert otto.get(f"/operator/webhooks/{huge}/").status_code == 404
    assert otto.post(f"/operator/webhooks/{huge}/rotate/").status_code == 404
    assert otto.post(f"/operator/webhooks/1/deliveries/{huge}/resend/").status_code == 404
    for name in ("alice", "rita"):
        client = Client()
        client.force_login(cast[name])
        assert client.get("/operator/webhooks/").status_code == 404
        assert client.post(f"/operator/webhooks/{endpoint.pk}/rotate/").status_code == 404


def _endpoint() -> tuple[WebhookEndpoint, str]:
    from defectdesk.webhooks.actions import webhook_endpoint_register

    return webhook_endpoint_register(
        actor=SYSTEM, url="https://hooks.example.com/dd", event_types=["message.sent"]
    )


def test_the_api_registers_with_an_admin_token_and_returns_the_secret_once(
    admin: Client, cast: dict[str, Any]
) -> None:
    made = admin.post(
        "/api/v1/webhooks/endpoints",
        {"url": "https://hooks.example.com/dd", "event_types": ["defect.opened"]},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_")
    listed = admin.get("/api/v1/webhooks/endpoints").json()
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    one = admin.get(f"/api/v1/webhooks/endpoints/{body['id']}").json()
    assert "secret" not in one
    rotated = admin.post(f"/api/v1/webhooks/endpoints/{body['id']}/rotate").json()
    assert rotated["secret"] != body["secret"]
    assert (
        admin.post(f"/api/v1/webhooks/endpoints/{body['id']}/disable").json()["is_active"] is False
    )
    assert admin.post(f"/api/v1/webhooks/endpoints/{body['id']}/disable").status_code == 409


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "gopher://x.example.com/", "event_types": ["defect.opened"]}, "url"),
        ({"url": "http://localhost:8000/api/v1/events", "event_types": ["defect.opened"]}, "url"),
        ({"url": "https://hooks.example.com/", "event_types": ["order.placed"]}, "event_types"),
        ({"url": "https://hooks.example.com/", "event_types": []}, "event_types"),
        ({"url": "https://hooks.example.com/"}, "event_types"),
        ({"event_types": ["defect.opened"]}, "url"),
    ],
)
def test_the_api_refuses_bad_endpoints_with_422(
    admin: Client, payload: dict[str, Any], field: str
) -> None:
    answer = admin.post("/api/v1/webhooks/endpoints", payload, content_type="application/json")
    assert answer.status_code == 422, answer.content
    assert any(e["field"].startswith(field) for e in answer.json()["errors"])
    assert not WebhookEndpoint.objects.exists()


def test_other_tokens_are_refused_and_unknown_ids_are_404(
    admin: Client, cast: dict[str, Any]
) -> None:
    _, seller = token_create(actor=Actor(user=cast["alice"]), name="s", seller="S-1")
    _, review = token_create(actor=SYSTEM, name="r", scopes=["review"])
    for raw in (seller, review):
        answer = _bearer(raw).post(
            "/api/v1/webhooks/endpoints",
            {"url": "https://hooks.example.com/dd", "event_types": ["defect.opened"]},
            content_type="application/json",
        )
        assert answer.status_code == 403
        assert _bearer(raw).get("/api/v1/webhooks/endpoints").status_code == 403
    assert Client().get("/api/v1/webhooks/endpoints").status_code == 401
    assert admin.get("/api/v1/webhooks/endpoints/999999").status_code == 404
    huge = "9223372036854775808"
    assert admin.get(f"/api/v1/webhooks/endpoints/{huge}").status_code == 404
    assert admin.post(f"/api/v1/webhooks/endpoints/{huge}/rotate").status_code == 404
    assert admin.post(f"/api/v1/webhooks/deliveries/{huge}/resend").status_code == 404
    assert admin.get(f"/api/v1/webhooks/endpoints/{huge}/deliveries").status_code == 404
    page = admin.get("/api/v1/webhooks/endpoints/1/deliveries?page=9223372036854775807")
    assert page.status_code in (404, 422)
    assert admin.post("/api/v1/webhooks/deliveries/999999/resend").status_code == 404
    assert admin.get("/api/v1/webhooks/endpoints/1/deliveries?page=0").status_code == 422


def test_the_api_delivery_log_lists_each_attempt(admin: Client) -> None:
    endpoint, _ = _endpoint()
    with transaction.atomic():
        webhook_emit("message.sent", {"message_id": "m1", "body": "hi"})
    delivery = WebhookDelivery.objects.get()
    for n, code in ((1, 500), (2, 200)):
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=n,
            started_at=delivery.created_at,
            outcome="failed" if code == 500 else "delivered",
            status_code=code,
            duration_ms=5,
        )
    page = admin.get(f"/api/v1/webhooks/endpoints/{endpoint.pk}/deliveries").json()
    assert page["count"] == 1
    item = page["items"][0]
    assert item["event_id"] == delivery.event_id
    assert [(a["number"], a["status_code"]) for a in item["attempts"]] == [(1, 500), (2, 200)]
    resent = admin.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/resend")
    assert resent.status_code == 200 and resent.json()["status"] == "pending"
