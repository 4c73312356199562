"""Start-up guards for serving DefectDesk."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def ensure_safe_to_serve() -> None:
    """Refuse to serve with DEBUG off unless SECRET_KEY and ALLOWED_HOSTS are explicit."""
    if settings.DEBUG or settings.EMBEDDED:
        return
    missing = []
    if not settings.SECRET_KEY_FROM_ENV:
        missing.append("SECRET_KEY")
    if not settings.ALLOWED_HOSTS_FROM_ENV:
        missing.append("ALLOWED_HOSTS")
    if missing:
        raise ImproperlyConfigured(
            f"Refusing to serve with DEBUG off: set {' and '.join(missing)} in the environment "
            "(or DEFECTDESK_EMBEDDED=1 for a local, single-machine instance)."
        )
