"""Stripe `charge.dispute.*` webhooks as chargeback events (pure: no ORM, no network)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

TOLERANCE_SECONDS = 300
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
REASONS = {
    "product_not_received": "not_received",
    "product_unacceptable": "not_as_described",
    "duplicate": "duplicate",
    "fraudulent": "fraud",
    "unrecognized": "unrecognized",
}
OUTCOMES = {"won": "won", "warning_closed": "won", "lost": "lost"}


class SignatureError(ValueError):
    """The Stripe-Signature header does not prove the payload came from Stripe."""


def signature_verify(payload: bytes, header: str, secrets: Sequence[str], now: int) -> None:
    """Check `t=...,v1=...` against every configured secret, within ±300 s of `now`."""
    if not secrets:
        raise SignatureError("no STRIPE_WEBHOOK_SECRET is configured")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise SignatureError("the Stripe-Signature header has no timestamp") from exc
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("the signature timestamp is outside the 300-second tolerance")
    signed = f"{timestamp}.".encode() + payload
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
            return
    raise SignatureError("no v1 signature matches a configured secret")


@dataclass(frozen=True, slots=True)
class DisputeRef:
    """What a dispute event says about which order it concerns."""

    dispute_id: str
    payment_refs: tuple[str, ...]
    marketplace: str | None
    order: str | None


def dispute_ref(event: dict[str, Any]) -> DisputeRef | None:
    """The dispute of a `charge.dispute.*` event, or None for any other event."""
    if not str(event.get("type", "")).startswith("charge.dispute."):
        return None
    dispute = (event.get("data") or {}).get("object") or {}
    metadata = dispute.get("metadata") or {}
    refs = tuple(str(r) for r in (dispute.get("charge"), dispute.get("payment_intent")) if r)
    return DisputeRef(
        str(dispute.get("id", "")), refs, metadata.get("marketplace"), metadata.get("order")
    )


def _amount(dispute: dict[str, Any]) -> str | None:
    amount = dispute.get("amount")
    if not isinstance(amount, int):
        return None
    if str(dispute.get("currency", "")).lower() in ZERO_DECIMAL:
        return str(amount)
    return str((Decimal(amount) / 100).quantize(Decimal("0.01")))


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def chargeback_events(
    event: dict[str, Any], *, marketplace: str, order: str, seller: str
) -> list[dict[str, Any]]:
    """Ledger events for one Stripe dispute event (none for updates and fund movements).

    Ids are derived from the dispute, so a `closed` that arrives without its `created` brings
    the filing too, and the later `created` is a duplicate.
    """
    dispute = (event.get("data") or {}).get("object") or {}
    dispute_id = str(dispute["id"])
    common = {"marketplace": marketplace, "seller": seller, "order": order}
    filed_data: dict[str, Any] = {
        "chargeback_id": dispute_id,
        "reason": REASONS.get(str(dispute.get("reason")), "other"),
    }
    amount = _amount(dispute)
    if amount is not None:
        filed_data["amount"] = amount
    filed = {
        "id": f"stripe:{dispute_id}:filed",
        "type": "chargeback.filed",
        "occurred_at": _iso(int(dispute.get("created") or event["created"])),
        **common,
        "data": filed_data,
    }
    kind = event.get("type")
    if kind == "charge.dispute.created":
        return [filed]
    if kind == "charge.dispute.closed":
        status = str(dispute.get("status"))
        outcome = OUTCOMES.get(status)
        if outcome is None:
            return [filed]
        decided = {
            "id": f"stripe:{dispute_id}:decided:{status}",
            "type": "chargeback.decided",
            "occurred_at": _iso(int(event["created"])),
            **common,
            "data": {"chargeback_id": dispute_id, "outcome": outcome},
        }
        return [filed, decided]
    return []
