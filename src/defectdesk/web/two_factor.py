"""Two-factor pages: set up an authenticator app (with recovery codes), verify a session."""

from __future__ import annotations

from base64 import b32encode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods

from defectdesk.accounts.two_factor import (
    confirmed_app,
    second_factor_required,
    second_factor_verify,
    session_verified,
    totp_enrolment_confirm,
    totp_enrolment_start,
)
from defectdesk.core.actors import Actor
from defectdesk.core.errors import DomainError


class CodeForm(forms.Form):
    code = forms.CharField(
        label=pgettext_lazy("sign-in code", "Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


def _next(request: HttpRequest) -> str:
    """Where to go once verified: a local `next`, else home."""
    wanted = str(request.POST.get("next") or request.GET.get("next") or "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return "/"


@require_http_methods(["GET", "HEAD"])
@login_required
def start(request: HttpRequest) -> HttpResponse:
    """Send the user to set-up (no app yet) or to verification."""
    query = request.GET.urlencode()
    target = reverse("two_factor_verify" if confirmed_app(request.user) else "two_factor_setup")
    return redirect(f"{target}?{query}" if query else target)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Show the new app's secret and otpauth URI; a current code confirms it."""
    if confirmed_app(request.user) is not None and not session_verified(request):
        return redirect("two_factor_verify")
    actor = Actor(user=request.user)
    device = totp_enrolment_start(actor=actor, user=request.user)  # type: ignore[arg-type]
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = totp_enrolment_confirm(
                actor=actor,
                request=request,
                user=request.user,  # type: ignore[arg-type]
                code=form.cleaned_data["code"],
            )
        except DomainError as exc:
            form.add_error("code", exc.detail)
        else:
            return render(
                request,
                "web/two_factor_codes.html",
                {"codes": codes, "next": _next(request)},
            )
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "web/two_factor_setup.html",
        {
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "uri": device.config_url,
            "next": _next(request),
            "required": second_factor_required(request),
            "replacing": confirmed_app(request.user) is not None,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for a code from the app, or a recovery code, once per session."""
    if confirmed_app(request.user) is None:
        return redirect("two_factor_setup")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            second_factor_verify(
                actor=Actor(user=request.user),
                request=request,
                user=request.user,  # type: ignore[arg-type]
                code=form.cleaned_data["code"],
            )
        except DomainError as exc:
            form.add_error("code", exc.detail)
            status = exc.status if exc.status == 429 else 200
        else:
            return redirect(_next(request))
    return render(
        request,
        "web/two_factor_verify.html",
        {"form": form, "next": _next(request)},
        status=status,
    )
