"""The body and signature of a webhook post (pure: no ORM, no network)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

SIGNATURE_HEADER = "DefectDesk-Signature"


def event_body(event_id: str, type_: str, created: datetime, data: dict[str, Any]) -> bytes:
    """The JSON body posted for one event: the same bytes on every attempt."""
    return orjson.dumps(
        {
            "id": event_id,
            "type": type_,
            "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": data,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex>` with one v1 per secret (two while a rotated secret is still valid)."""
    return ",".join(
        [f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets if s)]
    )


def signature_valid(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver checks: a fresh timestamp and one v1 that matches (docs/webhooks.md)."""
    parts = [p.partition("=") for p in header.split(",")]
    stamps = [v for k, _, v in parts if k.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = signature(secret, int(stamps[0]), body)
    return any(hmac.compare_digest(expected, v) for k, _, v in parts if k.strip() == "v1")
