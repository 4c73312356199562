"""Second-factor helpers for tests: a confirmed authenticator app and its codes."""

from __future__ import annotations

import time
from base64 import b32decode
from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from defectdesk.accounts.models import StaffRole


def give_app(user: Any) -> TOTPDevice:
    """The user's confirmed authenticator app (made if missing)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def code_for(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code the app shows at a time (now by default)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def code_from_secret(secret: str, *, at: float | None = None) -> str:
    """The code an app set up with the shown base32 secret shows now."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def mark_verified(client: Client, user: Any) -> None:
    """Mark a reviewer's or operator's signed-in test session as past the second factor."""
    if not StaffRole.objects.filter(user_id=user.pk).exists():
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = give_app(user).persistent_id
    session.save()
