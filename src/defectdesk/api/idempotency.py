"""`Idempotency-Key` on every POST under /api/: the same key and request within 24 hours gets
the stored answer without acting again; the same key with another request is a 422.

The first request claims the key by inserting a row (unique per token or user and key) before
it acts: a concurrent repeat fails that insert in the database, waits for the first to finish
and answers what it answered. Only successful answers are kept; after a refusal or a failure the
key is free again, so that a corrected retry can act."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone

from defectdesk.api.contract import is_api
from defectdesk.api.errors import error_response
from defectdesk.api.models import IdempotentRequest
from defectdesk.api.ratelimit import bearer_token

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP_FOR = timedelta(hours=24)
WAIT_FOR_FIRST = 30.0  # seconds a repeat waits for the first request with its key
POLL_EVERY = 0.05
_KEY = re.compile(r"[!-~]{1,255}")


def _owner(request: HttpRequest) -> str | None:
    """Whose keys these are: the bearer token's, else the signed-in user's; None if neither."""
    token = bearer_token(request)
    if token is not None:
        return f"token:{token.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def fingerprint(request: HttpRequest) -> str:
    """What makes two requests the same: method, path, query, media type and body (a multipart
    body without its boundary, which each client picks afresh)."""
    body = request.body
    boundary = (request.content_params or {}).get("boundary", "")
    if boundary:
        body = body.replace(boundary.encode(), b"")
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path(), request.content_type or ""):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def _replay(row: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(row.body), status=row.status or 200, content_type=row.content_type or None
    )
    response[REPLAYED_HEADER] = "true"
    return response


def _claim(owner: str, key: str, digest: str) -> IdempotentRequest | None:
    """The new row claiming the key, or None when another request holds it."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(
                owner=owner, key=key, fingerprint=digest, created_at=now
            )
    except IntegrityError:
        return None


def _expire(owner: str, key: str) -> None:
    IdempotentRequest.objects.filter(
        owner=owner, key=key, created_at__lt=timezone.now() - KEEP_FOR
    ).delete()


def _store(row: IdempotentRequest, response: HttpResponseBase) -> None:
    if 200 <= response.status_code < 300 and not response.streaming:
        IdempotentRequest.objects.filter(pk=row.pk).update(
            status=response.status_code,
            content_type=response.get("Content-Type", "")[:100],
            body=response.content,  # type: ignore[attr-defined]
        )
        IdempotentRequest.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    else:
        IdempotentRequest.objects.filter(pk=row.pk).delete()


def _answer(
    request: HttpRequest, get_response: Callable[[HttpRequest], HttpResponseBase], owner: str
) -> HttpResponseBase:
    key = request.headers[HEADER]
    digest = fingerprint(request)
    deadline = time.monotonic() + WAIT_FOR_FIRST
    while True:
        _expire(owner, key)
        row = _claim(owner, key, digest)
        if row is not None:
            try:
                response = get_response(request)
            except BaseException:
                IdempotentRequest.objects.filter(pk=row.pk).delete()
                raise
            _store(row, response)
            return response
        held = IdempotentRequest.objects.filter(owner=owner, key=key).first()
        if held is None:
            continue  # the first request failed and freed the key: claim it again
        if held.fingerprint != digest:
            return error_response(
                422,
                "This Idempotency-Key was used with another request; use a new key for a new "
                "request.",
                [{"field": HEADER, "message": "was used with another method, path or body"}],
                code="idempotency_key_reused",
            )
        if held.status is not None:
            return _replay(held)
        if time.monotonic() > deadline:
            response = error_response(
                409,
                "The first request with this Idempotency-Key is still running; retry shortly.",
                code="idempotency_in_progress",
            )
            response["Retry-After"] = "1"
            return response
        time.sleep(POLL_EVERY)


class IdempotencyMiddleware:
    """Apply `Idempotency-Key` to POSTs under /api/ by a token or a signed-in user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method != "POST" or not is_api(request) or HEADER not in request.headers:
            return self.get_response(request)
        if not _KEY.fullmatch(request.headers[HEADER]):
            return error_response(
                422,
                "The Idempotency-Key is not valid.",
                [{"field": HEADER, "message": "must be 1 to 255 visible ASCII characters"}],
            )
        owner = _owner(request)
        if owner is None:
            return self.get_response(request)  # refused as unauthenticated by the operation
        return _answer(request, self.get_response, owner)
