"""A merchant's Amazon credentials, sealed at rest with a key from the environment."""

from __future__ import annotations

from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from defectdesk.core.errors import Conflict

FIELDS = ("client_id", "client_secret", "refresh_token")


def _fernet() -> Fernet:
    key = getattr(settings, "MIRROR_CREDENTIALS_KEY", "")
    if not key:
        raise Conflict(
            "Amazon connections are not set up on this server: the operator must set "
            "MIRROR_CREDENTIALS_KEY (see docs/mirror.md). File uploads work without it."
        )
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except ValueError:
        raise Conflict(
            "MIRROR_CREDENTIALS_KEY is not a valid key (32 url-safe base64-encoded bytes); "
            "the operator must fix it."
        ) from None


def credentials_seal(credentials: dict[str, str]) -> str:
    """The credentials as one encrypted token."""
    return _fernet().encrypt(orjson.dumps({k: credentials[k] for k in FIELDS})).decode()


def credentials_open(token: str) -> dict[str, Any]:
    """The credentials back; Conflict when the key changed since they were sealed."""
    try:
        data = orjson.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, orjson.JSONDecodeError):
        raise Conflict(
            "The stored Amazon credentials cannot be read with this server's key (the key "
            "changed?): reconnect the account."
        ) from None
    return dict(data)
