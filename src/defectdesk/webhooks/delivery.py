"""Posting due deliveries: signed, with a time-out, retried with exponential backoff for 24 h.

A delivery is claimed with a guarded UPDATE (a lease), posted outside any transaction, and
recorded afterwards. A worker killed while posting leaves its claim to expire and its attempt
marked "sending"; the next worker marks that attempt lost and posts again. Receivers therefore
get each event at least once and deduplicate by its id.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from defectdesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from defectdesk.webhooks.signing import SIGNATURE_HEADER, event_body, signature_header

log = logging.getLogger(__name__)

RETRY_FOR = timedelta(hours=24)
MAX_DELAY = timedelta(hours=6)
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "DefectDesk-Webhooks/1"


def timeout_seconds() -> float:
    return float(settings.WEBHOOK_TIMEOUT_SECONDS)


def lease() -> timedelta:
    """How long a claim holds: longer than the slowest post a time-out allows."""
    return timedelta(seconds=3 * timeout_seconds() + 5)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: base, 2 x base, 4 x base, ... at most 6 h."""
    base = float(settings.WEBHOOK_RETRY_BASE_SECONDS)
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_DELAY)


def next_attempt_at(created: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after a failure, or None once 24 h since the event have passed."""
    give_up = created + RETRY_FOR
    if now >= give_up:
        return None
    return min(now + retry_delay(attempts), give_up)


@dataclass(frozen=True, slots=True)
class PostResult:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> PostResult:
    """POST once; redirects are not followed (a 3xx is a failure)."""
    started = time.monotonic()
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        code: int | None = response.status
        error = "" if 200 <= response.status < 300 else f"the receiver answered {response.status}"
    except TimeoutError:
        code, error = None, f"no answer within {timeout:g} s"
    except (OSError, http.client.HTTPException) as exc:
        code, error = None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        conn.close()
    return PostResult(code, error, int((time.monotonic() - started) * 1000))


def _claim_next(now: datetime) -> WebhookDelivery | None:
    """Take the next due delivery so that no other worker posts it meanwhile.

    One at a time: a worker killed mid-post holds only the delivery it was posting."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due = list(
        WebhookDelivery.objects.filter(
            free,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            endpoint__is_active=True,
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:10]
    )
    for pk in due:
        with transaction.atomic():
            taken = WebhookDelivery.objects.filter(
                free, pk=pk, status=WebhookDelivery.Status.PENDING
            ).update(claimed_until=now + lease(), attempts=F("attempts") + 1)
            if not taken:
                continue  # another worker took it first
            # An attempt still "sending" belongs to a worker that stopped mid-post.
            WebhookAttempt.objects.filter(
                delivery_id=pk, outcome=WebhookAttempt.Outcome.SENDING
            ).update(outcome=WebhookAttempt.Outcome.LOST, error="the worker stopped while sending")
        return WebhookDelivery.objects.select_related("event", "endpoint").get(pk=pk)
    return None


def _secrets(delivery: WebhookDelivery, now: datetime) -> list[str]:
    endpoint = delivery.endpoint
    secrets = [endpoint.secret]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def _deliver_one(delivery: WebhookDelivery) -> tuple[bool, datetime | None]:
    """Post one claimed delivery and record the attempt: (delivered, when to retry)."""
    event = delivery.event
    started = timezone.now()
    attempt = WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=started,
        outcome=WebhookAttempt.Outcome.SENDING,
    )
    body = event_body(event.id, event.type, event.created_at, event.data)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "DefectDesk-Event-Id": event.id,
        "DefectDesk-Event-Type": event.type,
        SIGNATURE_HEADER: signature_header(_secrets(delivery, started), int(time.time()), body),
    }
    result = post(delivery.endpoint.url, body, headers, timeout_seconds())
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.filter(pk=attempt.pk).update(
            outcome=WebhookAttempt.Outcome.DELIVERED
            if result.ok
            else WebhookAttempt.Outcome.FAILED,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error,
        )
        change: dict[str, object] = {
            "claimed_until": None,
            "last_status_code": result.status_code,
            "last_error": result.error,
        }
        if result.ok:
            change |= {"status": WebhookDelivery.Status.DELIVERED, "delivered_at": now}
        else:
            retry_at = next_attempt_at(event.created_at, delivery.attempts, now)
            if retry_at is None:
                change["status"] = WebhookDelivery.Status.FAILED
            else:
                change["next_attempt_at"] = retry_at
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**change)
    if result.ok:
        return True, None
    log.warning(
        "webhook %s to endpoint %s failed (attempt %s): %s",
        event.id,
        delivery.endpoint_id,
        delivery.attempts,
        result.error,
    )
    retry = change.get("next_attempt_at")
    return False, retry if isinstance(retry, datetime) else None


def webhooks_deliver(*, limit: int = 200) -> dict[str, int]:
    """Post due deliveries, one claim at a time; returns counts of delivered and failed posts.

    One job is queued for the earliest retry of this run (the periodic job is the backstop)."""
    counts = {"delivered": 0, "failed": 0}
    retries: list[datetime] = []
    for _ in range(limit):
        delivery = _claim_next(timezone.now())
        if delivery is None:
            break
        ok, retry = _deliver_one(delivery)
        counts["delivered" if ok else "failed"] += 1
        if retry is not None:
            retries.append(retry)
    if retries:
        from defectdesk.webhooks.outbox import webhooks_kick

        webhooks_kick(run_after=min(retries))
    return counts


KEEP_LOG = timedelta(days=30)


def webhooks_prune(*, now: datetime | None = None) -> int:
    """Forget events whose every delivery ended (delivered or failed) over 30 days ago, with
    their deliveries and attempts; returns how many events went."""
    cutoff = (now or timezone.now()) - KEEP_LOG
    old = (
        WebhookEvent.objects.filter(created_at__lt=cutoff)
        .exclude(deliveries__status=WebhookDelivery.Status.PENDING)
        .values_list("id", flat=True)
    )
    ids = list(old[:10000])
    if ids:
        WebhookEvent.objects.filter(id__in=ids).delete()
    return len(ids)
