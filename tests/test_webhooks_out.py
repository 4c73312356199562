"""Webhooks out: signed events from the outbox, retried until delivered, logged per attempt."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from defectdesk.accounts.models import Seller
from defectdesk.accounts.roles import principal_for_user
from defectdesk.appeals.actions import (
    appeal_create,
    appeal_decide,
    appeal_request_info,
    appeal_submit,
)
from defectdesk.core.actors import Actor
from defectdesk.core.errors import ValidationFailed
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Marketplace, Order
from defectdesk.messaging.actions import message_reply
from defectdesk.metrics.status import account_status_announce
from defectdesk.webhooks.actions import (
    webhook_delivery_resend,
    webhook_endpoint_disable,
    webhook_endpoint_register,
    webhook_endpoint_rotate,
)
from defectdesk.webhooks.delivery import next_attempt_at, webhooks_deliver
from defectdesk.webhooks.models import WebhookAttempt, WebhookDelivery
from defectdesk.webhooks.signing import event_body, signature_header, signature_valid
from defectdesk.webhooks.types import EVENT_TYPES
from tests.webhook_receiver import Receiver, receiving

pytestmark = pytest.mark.django_db(transaction=True)

EXPLANATION = "The buyer's comment is about the product itself, not about my service."


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deliver_until_settled(seconds: float = 30) -> None:
    """Run the delivery job until nothing is pending (as the worker would, at its retry times)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        webhooks_deliver()
        if not WebhookDelivery.objects.filter(status="pending").exists():
            return
        time.sleep(0.05)
    raise AssertionError("deliveries still pending")


def every_kind_of_event(cast: dict[str, Any], make_event: Any) -> None:
    """Run the actions behind each of the seven event types once."""
    now = timezone.now()
    placed = make_event(order="O-1", at=_iso(now - timedelta(days=3)))
    feedback = make_event(
        "feedback.posted",
        order="O-1",
        at=_iso(now - timedelta(days=1)),
        feedback_id="F1",
        rating=1,
        comment="<b>awful</b> 😡 =SUM(A1)",
    )
    assert not events_ingest([Candidate(0, placed), Candidate(1, feedback)]).rejected
    defect = Defect.objects.get(kind="negative_feedback")
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    appeal_request_info(actor=cast["rita"], appeal=appeal, question="Which product was it?")
    appeal.refresh_from_db()
    if appeal.status == "info_requested":
        from defectdesk.appeals.actions import appeal_reply

        appeal_reply(actor=cast["alice"], appeal=appeal, message="The mug, 你好 ☕")
    appeal_decide(actor=cast["rita"], appeal=appeal, decision="approve", note="Agreed.")
    order = Order.objects.get(order_ref="O-1")
    message_reply(
        actor=Actor(user=cast["alice"]),
        principal=principal_for_user(cast["alice"]),
        order=order,
        body="Sorry! 对不起",
    )
    with transaction.atomic():
        account_status_announce(
            seller=Seller.objects.get(external_id="S-1"),
            marketplace=Marketplace.objects.get(code="US"),
            day=now.date(),
            old="healthy",
            new="at_risk",
            failing=["order_defect_rate"],
        )


def test_a_receiver_failing_its_first_3_posts_gets_every_event_once_signed(
    cast: dict[str, Any], make_event: Any, settings: Any
) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.05
    otto = Actor(user=cast["otto"])
    with receiving(Receiver(fail_first=3)) as receiver:
        endpoint, secret = webhook_endpoint_register(
            actor=otto, url=receiver.url, event_types=list(EVENT_TYPES)
        )
        receiver.secret = secret
        every_kind_of_event(cast, make_event)
        deliver_until_settled()
    ids = receiver.ids()
    stored = set(WebhookDelivery.objects.values_list("event_id", flat=True))
    assert sorted(ids) == sorted(stored)  # every event, exactly once by id
    assert all(n == 1 for n in Counter(ids).values())
    assert all(receiver.signatures_ok)
    types = {e["type"] for e in receiver.received}
    assert types == set(EVENT_TYPES), types
    for event in receiver.received:
        assert set(event) == {"id", "type", "created", "data"}
    decided = next(e for e in receiver.received if e["type"] == "appeal.decided")
    assert decided["data"]["decision"] == "approved"
    assert decided["data"]["seller"] == "S-1"
    sent = next(e for e in receiver.received if e["type"] == "message.sent")
    assert sent["data"]["body"] == "Sorry! 对不起"
    opened = next(e for e in receiver.received if e["type"] == "defect.opened")
    assert (opened["data"]["kind"], opened["data"]["order"]) == ("negative_feedback", "O-1")
    # The log: 3 failed attempts, then one delivered attempt per delivery.
    attempts = WebhookAttempt.objects.filter(delivery__endpoint=endpoint)
    assert attempts.filter(outcome="failed", status_code=500).count() == 3
    assert attempts.filter(outcome="delivered", status_code=200).count() == len(stored)
    assert not attempts.filter(outcome="sending").exists()
    assert all(a.duration_ms is not None for a in attempts)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_defect_opened_and_removed_by_the_ledger_is_announced_once_each(
    cast: dict[str, Any], make_event: Any, settings: Any
) -> None:
    with receiving(Receiver()) as receiver:
        _, receiver.secret = webhook_endpoint_register(
            actor=Actor(user=cast["otto"]),
            url=receiver.url,
            event_types=["defect.opened", "defect.removed"],
        )
        now = timezone.now()
        events = [
            make_event(order="O-2", at=_iso(now - timedelta(days=3))),
            make_event(
                "claim.filed",
                order="O-2",
                at=_iso(now - timedelta(days=2)),
                claim_id="C1",
                reason="not_received",
            ),
        ]
        events_ingest([Candidate(i, e) for i, e in enumerate(events)])
        # The same events again, and an unrelated order: nothing new to announce.
        events_ingest([Candidate(i, e) for i, e in enumerate(events)])
        decided = make_event(
            "claim.decided",
            order="O-2",
            at=_iso(now - timedelta(days=1)),
            claim_id="C1",
            outcome="denied",
        )
        events_ingest([Candidate(0, decided)])
        deliver_until_settled()
    claims = [e for e in receiver.received if e["data"]["kind"] == "a_to_z_claim"]
    assert [e["type"] for e in claims] == ["defect.opened", "defect.removed"]
    assert claims[1]["data"]["removal_cause"] == "event"
    assert claims[0]["data"]["defect"] == claims[1]["data"]["defect"]
    assert len(receiver.ids()) == len(set(receiver.ids()))


def test_nothing_is_stored_when_no_endpoint_listens(cast: dict[str, Any], make_event: Any) -> None:
    now = timezone.now()
    events_ingest([Candidate(0, make_event(order="O-3", at=_iso(now - timedelta(days=3))))])
    assert not WebhookDelivery.objects.exists()


def test_a_slow_receiver_times_out_and_is_retried(cast: dict[str, Any], settings: Any) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.05
    with receiving(Receiver(delay_first=2.5)) as receiver:
        _, receiver.secret = webhook_endpoint_register(
            actor=Actor(user=cast["otto"]), url=receiver.url, event_types=["message.sent"]
        )
        from defectdesk.webhooks.outbox import webhook_emit

        with transaction.atomic():
            webhook_emit("message.sent", {"message_id": "m1", "body": "hi"})
        deliver_until_settled()
    first, second = WebhookAttempt.objects.order_by("number")
    assert (first.outcome, first.status_code) == ("failed", None)
    assert "no answer within 1 s" in first.error
    assert (second.outcome, second.status_code) == ("delivered", 200)
    assert len(receiver.ids()) >= 1
    assert set(receiver.ids()) == {WebhookDelivery.objects.get().event_id}


def test_resend_posts_the_same_event_again_and_is_audited(cast: dict[str, Any]) -> None:
    otto = Actor(user=cast["otto"])
    with receiving(Receiver()) as receiver:
        _, receiver.secret = webhook_endpoint_register(
            actor=otto, url=receiver.url, event_types=["message.sent"]
        )
        from defectdesk.webhooks.outbox import webhook_emit

        with transaction.atomic():
            webhook_emit("message.sent", {"message_id": "m1", "body": "hi"})
        deliver_until_settled()
        delivery = WebhookDelivery.objects.get()
        webhook_delivery_resend(actor=otto, delivery=delivery)
        deliver_until_settled()
    assert receiver.ids() == [delivery.event_id, delivery.event_id]
    assert delivery.attempt_log.count() == 2
    audit = AuditEvent.objects.get(action="webhook.resend")
    assert (audit.actor_id, audit.object_id) == (cast["otto"].pk, str(delivery.pk))


def test_after_a_rotation_both_secrets_sign_for_a_day(cast: dict[str, Any]) -> None:
    otto = Actor(user=cast["otto"])
    with receiving(Receiver()) as receiver:
        endpoint, old = webhook_endpoint_register(
            actor=otto, url=receiver.url, event_types=["message.sent"]
        )
        endpoint, new = webhook_endpoint_rotate(actor=otto, endpoint=endpoint)
        assert new != old
        receiver.secret = old  # a receiver that has not switched yet
        from defectdesk.webhooks.outbox import webhook_emit

        with transaction.atomic():
            webhook_emit("message.sent", {"message_id": "m1", "body": "hi"})
        deliver_until_settled()
    assert receiver.signatures_ok == [True]
    actions = list(
        AuditEvent.objects.filter(object_type="webhook_endpoint")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["webhook.register", "webhook.rotate"]


def test_a_disabled_endpoint_gets_nothing(cast: dict[str, Any]) -> None:
    otto = Actor(user=cast["otto"])
    endpoint, _ = webhook_endpoint_register(
        actor=otto, url="http://127.0.0.1:18499/never", event_types=["message.sent"]
    )
    webhook_endpoint_disable(actor=otto, endpoint=endpoint)
    from defectdesk.webhooks.outbox import webhook_emit

    with transaction.atomic():
        assert webhook_emit("message.sent", {"message_id": "m1"}) == 0
    assert AuditEvent.objects.filter(action="webhook.disable").count() == 1


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://127.0.0.1:8000/webhooks/stripe", "itself"),
        ("http://localhost:8000/x", "itself"),
        ("http://user:pw@example.com/", "user name or password"),
        ("http://exa mple.com/", "spaces"),
        ("http://example.com/\x00", "control characters"),
        ("", "required"),
        ("https://" + "a" * 2000 + ".com", "limit"),
        ("http://", "not a valid"),
    ],
)
def test_bad_endpoint_addresses_are_refused(cast: dict[str, Any], url: str, says: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        webhook_endpoint_register(
            actor=Actor(user=cast["otto"]), url=url, event_types=["message.sent"]
        )
    assert caught.value.errors[0].field == "url"
    assert says in caught.value.errors[0].message
    assert not AuditEvent.objects.filter(action="webhook.register").exists()


def test_unknown_event_types_are_refused(cast: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        webhook_endpoint_register(
            actor=Actor(user=cast["otto"]),
            url="https://hooks.example.com/dd",
            event_types=["defect.opened", "order.placed"],
        )
    assert "order.placed" in caught.value.errors[0].message


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = event_body("evt_1", "message.sent", datetime(2026, 12, 1, tzinfo=UTC), {"a": "你好"})
    header = signature_header(["whsec_x"], 1_800_000_000, body)
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_x", b"1800000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={expected}"
    assert signature_valid("whsec_x", header, body, 1_800_000_100)
    assert not signature_valid("whsec_x", header, body, 1_800_000_400)
    assert not signature_valid("whsec_y", header, body, 1_800_000_000)
    assert not signature_valid("whsec_x", header, body + b" ", 1_800_000_000)


def test_retries_back_off_exponentially_and_stop_after_24_hours(settings: Any) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    created = datetime(2026, 12, 1, tzinfo=UTC)
    waits = []
    now = created
    attempts = 0
    while True:
        attempts += 1
        at = next_attempt_at(created, attempts, now)
        if at is None:
            break
        waits.append((at - now).total_seconds())
        now = at
    assert waits[:4] == [30, 60, 120, 240]
    assert now == created + timedelta(hours=24)
    assert attempts < 20


@pytest.mark.django_db(transaction=False)
def test_the_receiver_in_the_docs_verifies_our_signature() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "webhooks.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    scope: dict[str, Any] = {}
    exec(compile(code, "docs/webhooks.md", "exec"), scope)  # nosec B102 # our own docs
    body = event_body("evt_1", "message.sent", datetime(2026, 12, 1, tzinfo=UTC), {"b": "你好"})
    now = int(time.time())
    for secrets in (["whsec_a"], ["whsec_a", "whsec_old"], ["whsec_old", "whsec_a"]):
        header = signature_header(secrets, now, body)
        assert scope["verify"]("whsec_a", header, body)["id"] == "evt_1"
    for header, bad in (
        (signature_header(["whsec_b"], now, body), body),
        (signature_header(["whsec_a"], now - 301, body), body),
        (signature_header(["whsec_a"], now, body), body + b" "),
    ):
        with pytest.raises(ValueError):
            scope["verify"]("whsec_a", header, bad)


def test_the_log_forgets_events_that_ended_over_30_days_ago(cast: dict[str, Any]) -> None:
    from defectdesk.webhooks.delivery import webhooks_prune
    from defectdesk.webhooks.models import WebhookEvent
    from defectdesk.webhooks.outbox import webhook_emit

    webhook_endpoint_register(
        actor=Actor(user=cast["otto"]), url="http://127.0.0.1:18499/x", event_types=["message.sent"]
    )
    with transaction.atomic():
        webhook_emit("message.sent", {"message_id": "old"})
        webhook_emit("message.sent", {"message_id": "pending"})
    done, pending = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk=done.pk).update(status="delivered")
    later = timezone.now() + timedelta(days=31)
    assert webhooks_prune(now=later) == 1
    assert list(WebhookEvent.objects.values_list("id", flat=True)) == [pending.event_id]
