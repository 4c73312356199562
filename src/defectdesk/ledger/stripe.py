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


INQUIRY_STATUSES = {"warning_needs_response", "warning_under_review", "warning_closed"}
# Stripe's final statuses of a decided dispute, and our chargeback outcome for each.
OUTCOMES = {"won": "won", "lost": "lost"}


@dataclass(frozen=True, slots=True)
class Dispute:
    """What one `charge.dispute.*` event says about its dispute."""

    dispute_id: str
    status: str
    payment_refs: tuple[str, ...]
    charge: str | None
    payment_intent: str | None
    marketplace: str | None
    order: str | None
    seller: str | None
    reason: str
    amount: str | None
    currency: str
    created: int  # when Stripe opened the dispute (or the inquiry it grew from)
    event_created: int  # when this event happened: orders the statuses of one dispute

    @property
    def is_inquiry(self) -> bool:
        return self.status in INQUIRY_STATUSES


def has_nul(value: Any, depth: int = 0) -> bool:
    """Whether a NUL character hides anywhere in a parsed JSON value (no database stores it)."""
    if depth > 64:
        return True  # nested deeper than any Stripe event: refuse it as well
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k, depth + 1) or has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v, depth + 1) for v in value)
    return False


class NotADispute(ValueError):
    """The event is not a `charge.dispute.*` event, or its dispute lacks what we need."""


def _text(value: Any, limit: int = 128) -> str | None:
    if isinstance(value, str) and value.strip() and "\x00" not in value:
        return value.strip()[:limit]
    return None


def dispute_of(event: dict[str, Any]) -> Dispute:
    """The dispute of a `charge.dispute.*` event; NotADispute for anything else."""
    if not str(event.get("type", "")).startswith("charge.dispute."):
        raise NotADispute(f"{str(event.get('type'))[:80]!r} is not a dispute event")
    data = event.get("data")
    dispute = data.get("object") if isinstance(data, dict) else None
    if not isinstance(dispute, dict):
        raise NotADispute("the event carries no dispute object")
    dispute_id = _text(dispute.get("id"))
    status = _text(dispute.get("status"), 40)
    created, event_created = dispute.get("created"), event.get("created")
    if dispute_id is None or status is None:
        raise NotADispute("the dispute has no id or no status")
    if not isinstance(created, int) or not isinstance(event_created, int):
        raise NotADispute("the dispute or the event has no creation time")
    metadata = dispute.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    charge, intent = _text(dispute.get("charge")), _text(dispute.get("payment_intent"))
    return Dispute(
        dispute_id=dispute_id,
        status=status,
        payment_refs=tuple(r for r in (charge, intent) if r),
        charge=charge,
        payment_intent=intent,
        marketplace=_text(metadata.get("marketplace"), 16),
        order=_text(metadata.get("order"), 64),
        seller=_text(metadata.get("seller"), 64),
        reason=REASONS.get(str(dispute.get("reason")), "other"),
        amount=_amount(dispute),
        currency=str(dispute.get("currency") or "")[:3].upper(),
        created=created,
        event_created=event_created,
    )


def _rank(status: str) -> int:
    """How far along a dispute a status is: an open inquiry, an open dispute, a closed
    inquiry, a decided dispute."""
    if status in OUTCOMES:
        return 3
    if status == "warning_closed":
        return 2
    return 0 if status in INQUIRY_STATUSES else 1


def status_is_newer(status: str, at: int, known_status: str, known_at: int) -> bool:
    """Whether (status, at) replaces the known status: the later event wins; in the same
    second the status further along wins, so any arrival order ends the same."""
    if at != known_at:
        return at > known_at
    return _rank(status) > _rank(known_status)


def _amount(dispute: dict[str, Any]) -> str | None:
    amount = dispute.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        return None
    if str(dispute.get("currency", "")).lower() in ZERO_DECIMAL:
        return str(amount)
    return str((Decimal(amount) / 100).quantize(Decimal("0.01")))


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def chargeback_events(
    *,
    dispute_id: str,
    reason: str,
    amount: str | None,
    created: int,
    status: str,
    status_at: int,
    marketplace: str,
    order: str,
    seller: str,
) -> list[dict[str, Any]]:
    """The ledger events of a dispute in its latest known state (none while an inquiry).

    Ids come from the dispute, so every delivery, in any order, yields the same events and
    the ledger takes each once: the filing when Stripe opened it, the decision when it closed.
    """
    common = {"marketplace": marketplace, "seller": seller, "order": order}
    data: dict[str, Any] = {"chargeback_id": dispute_id, "reason": reason}
    if amount is not None:
        data["amount"] = amount
    events = [
        {
            "id": f"stripe:{dispute_id}:filed",
            "type": "chargeback.filed",
            "occurred_at": _iso(created),
            **common,
            "data": data,
        }
    ]
    outcome = OUTCOMES.get(status)
    if outcome is not None:
        events.append(
            {
                "id": f"stripe:{dispute_id}:decided:{status}",
                "type": "chargeback.decided",
                "occurred_at": _iso(max(status_at, created)),
                **common,
                "data": {"chargeback_id": dispute_id, "outcome": outcome},
            }
        )
    return events
