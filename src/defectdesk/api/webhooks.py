"""Incoming webhooks (not part of the merchant pages; no session, no CSRF)."""

from __future__ import annotations

import time

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from defectdesk.ledger.stripe import SignatureError, has_nul, signature_verify
from defectdesk.ledger.webhooks import stripe_webhook_receive


def _refuse(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code, "errors": []}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Stripe `charge.dispute.*` events, signed with a secret of STRIPE_WEBHOOK_SECRET."""
    try:
        payload = request.body
    except RequestDataTooBig:
        return _refuse(413, "The body is too large for a Stripe event.", "too_large")
    try:
        signature_verify(
            payload,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
            int(time.time()),
        )
    except SignatureError as exc:
        return _refuse(400, f"Signature check failed: {exc}.", "bad_signature")
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _refuse(400, "The body is not valid JSON.", "invalid")
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"]:
        return _refuse(400, "The body is not a Stripe event (it has no id).", "invalid")
    if has_nul(event):
        return _refuse(400, "The event holds a NUL character or is nested too deeply.", "invalid")
    record = stripe_webhook_receive(event)
    return JsonResponse(
        {"id": record.stripe_event_id, "status": record.status, "detail": record.detail}
    )
