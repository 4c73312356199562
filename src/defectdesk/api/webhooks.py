"""Incoming webhooks (not part of the merchant pages; no session, no CSRF)."""

from __future__ import annotations

import time

import orjson
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from defectdesk.ledger.stripe import SignatureError, signature_verify
from defectdesk.ledger.webhooks import stripe_webhook_receive


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    payload = request.body
    try:
        signature_verify(
            payload,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
            int(time.time()),
        )
    except SignatureError as exc:
        return JsonResponse({"detail": f"Signature check failed: {exc}.", "errors": []}, status=400)
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return JsonResponse({"detail": "The body is not valid JSON.", "errors": []}, status=400)
    if not isinstance(event, dict) or not event.get("id"):
        return JsonResponse({"detail": "The body is not a Stripe event.", "errors": []}, status=400)
    record = stripe_webhook_receive(event)
    return JsonResponse(
        {"id": record.stripe_event_id, "status": record.status, "detail": record.detail}
    )
