"""Two-factor sign-in: who must pass it, enrolment, verification, reset, and the gate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from defectdesk.accounts.roles import principal_for_user
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import DomainError

RECOVERY_CODE_COUNT = 10
"""How many recovery codes a user is given at set-up (each works once)."""

ENROLLED_SESSION_KEY = "two_factor_enrolled"
"""Set at sign-in when the user has a confirmed device: a merchant who chose 2FA must use it."""

OPEN_PATHS = ("/two-factor/", "/signout/", "/signin/", "/static/", "/healthz", "/readyz", "/api/")
"""Paths an unverified user may reach (the API checks the session itself, in SessionAuth)."""

APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def second_factor_required(request: HttpRequest) -> bool:
    """Whether the signed-in session must be verified: reviewers, operators, enrolled users."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    roles = principal_for_user(user)
    if roles.is_reviewer or roles.is_operator:
        return True
    return bool(request.session.get(ENROLLED_SESSION_KEY))


def session_verified(request: HttpRequest) -> bool:
    """Whether this session has passed a second factor (django-otp's OTPMiddleware decides)."""
    user = getattr(request, "user", None)
    return user is not None and getattr(user, "otp_device", None) is not None


def session_needs_verification(request: HttpRequest) -> bool:
    """Whether the signed-in session is held back until the user passes a second factor."""
    return second_factor_required(request) and not session_verified(request)


def refuse_unverified_api_session(request: HttpRequest) -> None:
    """An API request through an unverified staff session is refused (tokens are unaffected)."""
    if session_needs_verification(request):
        raise DomainError(
            "Two-factor verification required: verify this session at /two-factor/ first.",
            status=403,
        )


class SecondFactorMiddleware:
    """Send a session that must pass a second factor to set-up or verification first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(OPEN_PATHS) and session_needs_verification(request):
            return HttpResponseRedirect(
                "/two-factor/?" + urlencode({"next": request.get_full_path()})
            )
        return self.get_response(request)


@receiver(user_logged_in)
def _remember_enrolment(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """Note in the new session whether the user has a confirmed device to verify with."""
    if request is not None and hasattr(request, "session"):
        request.session[ENROLLED_SESSION_KEY] = user_has_device(user, confirmed=True)


def confirmed_app(user: AbstractBaseUser | AnonymousUser) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if any."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()


def totp_enrolment_start(*, actor: Actor, user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed authenticator device to set up (made once, kept until confirmed)."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).first()
        if device is not None:
            return device
        device = TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)
        audit_record(
            actor=actor,
            action="user.two_factor_started",
            object_type="user",
            object_id=user.pk,
            data={"username": user.get_username()},
        )
    return device


def totp_enrolment_confirm(
    *, actor: Actor, request: HttpRequest, user: AbstractBaseUser, code: str
) -> list[str]:
    """Confirm the authenticator with a current code; returns the new recovery codes (once)."""
    codes: list[str] = []
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=False).first()
        )
        # A wrong code counts towards the device's throttle, so it is kept (no rollback).
        if device is not None and device.verify_token(code.strip()):
            TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            StaticDevice.objects.filter(user_id=user.pk).delete()
            recovery = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
            codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
            StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
            audit_record(
                actor=actor,
                action="user.two_factor_enrolled",
                object_type="user",
                object_id=user.pk,
                data={"username": user.get_username(), "recovery_codes": len(codes)},
            )
    if device is None or not codes:
        raise DomainError("That code is not valid: enter the 6 digits the app shows now.")
    otp_login(request, device)
    request.session[ENROLLED_SESSION_KEY] = True
    return codes


def _check(device: TOTPDevice | StaticDevice, token: str) -> bool:
    """Verify a code on a locked device, refusing while the device is throttled."""
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        raise DomainError("Too many wrong codes: wait a minute and try again.", status=429)
    return bool(device.verify_token(token))


def second_factor_verify(
    *, actor: Actor, request: HttpRequest, user: AbstractBaseUser, code: str
) -> str:
    """Verify this session with an app code or a recovery code; returns which kind was used.

    The device is locked while checked: an app code is accepted only for a time step after
    the last one accepted (TOTPDevice.last_t), and a recovery code is deleted when used."""
    token = "".join(code.split()).lower()
    if not token:
        raise DomainError("Enter the code from your authenticator app or a recovery code.")
    with transaction.atomic():
        app = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True).first()
        recovery = (
            StaticDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True).first()
        )
        if app is None:
            raise DomainError("Set up an authenticator app first.")
        is_app_code = token.isdigit() and len(token) == app.digits
        kind = "app" if is_app_code else "recovery"
        device: TOTPDevice | StaticDevice | None = app if is_app_code else recovery
        # A wrong code counts towards the device's throttle, so it is kept (no rollback).
        verified = device is not None and _check(device, token)
        if verified:
            audit_record(
                actor=actor,
                action="user.two_factor_verified",
                object_type="user",
                object_id=user.pk,
                data={"username": user.get_username(), "with": kind},
            )
    if not verified or device is None:
        raise DomainError("That code is not valid or has already been used.")
    otp_login(request, device)
    return kind


def second_factor_reset(*, actor: Actor, username: str) -> int:
    """Remove a user's authenticator and recovery codes (a lost device); returns how many."""
    with transaction.atomic():
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise DomainError(f"No user named {username!r}.", status=404)
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        audit_record(
            actor=actor,
            action="user.two_factor_reset",
            object_type="user",
            object_id=user.pk,
            data={"username": username},
        )
    return removed
