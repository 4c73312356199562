"""Which endpoint addresses are acceptable: http(s), no credentials, not the service itself."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from defectdesk.core.errors import FieldError

MAX_URL = 2000
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0"}  # noqa: S104 # nosec B104 # names compared, nothing is bound
_validate = URLValidator(schemes=["http", "https"])


def _origin(host: str, port: int | None, scheme: str) -> tuple[str, int]:
    return host.lower().strip("[]"), port or (443 if scheme == "https" else 80)


def _own_origins() -> set[tuple[str, int]]:
    """Where this service answers: DEFECTDESK_BASE_URL, and each allowed host at its port."""
    base = urlsplit(settings.BASE_URL)
    host, port = _origin(base.hostname or "", base.port, base.scheme)
    names = {host} | {h.lower().strip("[]") for h in settings.ALLOWED_HOSTS if "*" not in h}
    if host in {n.strip("[]") for n in LOOPBACK_NAMES}:
        names |= {n.strip("[]") for n in LOOPBACK_NAMES}
    names.discard("")
    names.discard("testserver")
    return {(name.lstrip("."), port) for name in names}


def endpoint_url_errors(url: object) -> list[FieldError]:
    """What is wrong with an endpoint address, or nothing."""
    if not isinstance(url, str) or not url.strip():
        return [FieldError("url", "is required: the address DefectDesk posts events to")]
    url = url.strip()
    if len(url) > MAX_URL:
        return [FieldError("url", f"is {len(url):,} characters; the limit is {MAX_URL:,}")]
    if any(ord(c) < 32 or c.isspace() for c in url):
        return [FieldError("url", "must not contain spaces or control characters")]
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return [FieldError("url", f"must start with http:// or https://, not {parts.scheme!r}")]
    try:
        _validate(url)
    except ValidationError:
        return [FieldError("url", "is not a valid http(s) address")]
    if parts.username or parts.password:
        return [FieldError("url", "must not carry a user name or password")]
    if parts.fragment:
        return [FieldError("url", "must not have a #fragment")]
    try:
        port = parts.port
    except ValueError:
        return [FieldError("url", "has an invalid port")]
    if _origin(parts.hostname or "", port, parts.scheme.lower()) in _own_origins():
        return [
            FieldError(
                "url",
                "points at this DefectDesk service itself; give the address of the "
                "marketplace's receiver",
            )
        ]
    return []
