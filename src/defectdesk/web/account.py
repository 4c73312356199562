"""Notifications, buyer messages, and the owners' Users and API tokens pages."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from defectdesk.accounts.actions import (
    INVITATION_DAYS,
    invitation_accept,
    invitation_create,
    token_create,
    token_revoke,
)
from defectdesk.accounts.models import Membership
from defectdesk.accounts.selectors import (
    invitation_open,
    seller_invitations,
    seller_members,
    seller_tokens,
)
from defectdesk.core.actors import Actor
from defectdesk.core.datacache import cached, shows_seller
from defectdesk.core.errors import DomainError, Forbidden, NotFound
from defectdesk.messaging.selectors import (
    AtRiskOrder,
    at_risk_orders,
    buyer_messages_for_seller,
    response_window,
)
from defectdesk.messaging.threads import answer_state
from defectdesk.notify.actions import notification_mark_read
from defectdesk.notify.selectors import notifications_for
from defectdesk.web.common import Viewer, base_context, page, viewer_for
from defectdesk.web.forms import (
    ConfirmForm,
    InvitationAcceptForm,
    InvitationForm,
    NotificationReadForm,
    PageNumberForm,
    TokenForm,
)

MESSAGE_DAYS = 30
MESSAGES_SHOWN = 100
AT_RISK_SHOWN = 50
MESSAGES_CACHE_SECONDS = 30


@page
def notification_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    number = PageNumberForm(request.GET).page_number
    current = Paginator(notifications_for(request.user), 30).get_page(number)
    return render(
        request,
        "web/notifications.html",
        base_context(viewer, "notifications", page=current, rows=list(current.object_list)),
    )


@require_POST
@page
def notification_read(request: HttpRequest) -> HttpResponse:
    form = NotificationReadForm(request.POST)
    ids: list[int] = form.value("id", [])
    if form.value("all", False):
        ids = list(
            notifications_for(request.user)
            .filter(read_at__isnull=True)
            .values_list("pk", flat=True)
        )
    changed = notification_mark_read(user_id=int(request.user.pk or 0), notification_ids=ids)
    messages.success(request, _("%(n)d notification(s) marked as read.") % {"n": changed})
    return redirect("notifications")


@page
def message_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)

    # The same for everyone who may see the seller: rendered once per data version, and at
    # most every MESSAGES_CACHE_SECONDS (answer deadlines pass by themselves, so the states
    # and the time left are never older than that).
    def render_body() -> str:
        return render_to_string("web/messages_body.html", _messages_context(viewer))

    if viewer.seller is None:
        body = render_body()
    else:
        market = viewer.marketplace.pk if viewer.marketplace is not None else None
        shows = shows_seller(viewer.seller.pk)
        body = cached("web:messages", shows, market, render_body, MESSAGES_CACHE_SECONDS)
    context = base_context(viewer, "messages", body=mark_safe(body))  # nosec B703 # HTML rendered by an autoescaping template
    return render(request, "web/messages.html", context)


def _hours_shown(viewer: Viewer, windows: dict[int, timedelta]) -> int:
    """The response time the page states: the shown marketplace's policy."""
    market = getattr(viewer, "marketplace", None)
    market_id = getattr(market, "id", None) or next(iter(windows), None)
    if market_id is None:
        from defectdesk.ledger.models import Marketplace

        first = Marketplace.objects.order_by("id").first()
        if first is None:
            return 24
        market_id = first.id
    window = windows.get(market_id) or response_window(market_id)
    return int(window.total_seconds() // 3600)


def _messages_context(viewer: Viewer) -> dict[str, object]:
    now = timezone.now()
    rows: list[dict[str, object]] = []
    risky: list[AtRiskOrder] = []
    if viewer.seller is not None:
        since = now - timedelta(days=MESSAGE_DAYS)
        found = (
            buyer_messages_for_seller(viewer.seller, viewer.marketplace)
            .filter(received_at__gte=since)
            .order_by("-received_at")[:MESSAGES_SHOWN]
        )
        windows: dict[int, timedelta] = {}
        for message in found:
            market = message.order.marketplace_id
            if market not in windows:
                windows[market] = response_window(market)
            state, due = answer_state(
                message.received_at,
                message.answered_at,
                message.no_response_needed_at,
                now,
                windows[market],
            )
            rows.append({"message": message, "due": due, "state": state})
        in_view = viewer.marketplace.pk if viewer.marketplace is not None else None
        risky = at_risk_orders(viewer.seller, now, limit=AT_RISK_SHOWN, marketplace_id=in_view)
    return {
        "rows": rows,
        "risky": risky,
        "days": MESSAGE_DAYS,
        "open_count": sum(1 for r in rows if r["state"] in ("open", "overdue")),
        "hours": _hours_shown(viewer, windows if viewer.seller is not None else {}),
    }


def _owner(request: HttpRequest) -> Viewer:
    viewer = viewer_for(request)
    if viewer.seller is None:
        raise NotFound(_("No seller account."))
    if not viewer.is_owner:
        raise Forbidden(_("Only the seller's owner manages its users and API tokens."))
    return viewer


@page
def user_list(request: HttpRequest) -> HttpResponse:
    """Who works for the seller, and invitations by e-mail.

    Users are invited, never created here: the answer is the same whether or not the address
    or any user name exists, so the page tells nobody who has an account (docs/web.md)."""
    viewer = _owner(request)
    assert viewer.seller is not None
    form = InvitationForm(request.POST if request.method == "POST" else None)
    typed = {"email": "", "role": Membership.Role.STAFF.value}
    if form.is_bound:
        typed = {"email": form.value("email", ""), "role": form.value("role", "")}
        try:
            if form.is_valid():
                invitation_create(
                    actor=Actor(user=request.user),
                    seller=viewer.seller,
                    email=typed["email"],
                    role=typed["role"],
                )
        except DomainError as exc:
            form.refuse(exc)
        if form.is_valid() and not form.error_lists():
            messages.success(
                request,
                _(
                    "An invitation was sent to %(email)s. Whoever opens it chooses a user name "
                    "and password, or signs in to the account they have; it works once, for "
                    "%(days)d days."
                )
                % {"email": typed["email"], "days": INVITATION_DAYS},
            )
            return redirect("users")
    context = base_context(
        viewer,
        "users",
        members=list(seller_members(viewer.seller)),
        invitations=list(seller_invitations(viewer.seller)),
        roles=Membership.Role.choices,
        errors=form.error_lists(),
        typed=typed,
    )
    return render(request, "web/users.html", context)


def invitation(request: HttpRequest, key: str) -> HttpResponseBase:
    """The invited person's page: join as the signed-in user, or choose a user name."""
    found = invitation_open(key)
    if found is None:
        return render(request, "web/invitation.html", {"gone": True}, status=404)
    signed_in = request.user.is_authenticated
    form = InvitationAcceptForm(
        request.POST if request.method == "POST" else None, signed_in=signed_in
    )
    typed_name = ""
    if form.is_bound:
        typed_name = form.value("username", "")
        membership = None
        try:
            if form.is_valid():
                membership = invitation_accept(
                    actor=Actor(user=request.user if signed_in else None),
                    key=key,
                    user=request.user if signed_in else None,  # type: ignore[arg-type]
                    username=typed_name,
                    password=form.cleaned_data["password1"],
                )
        except NotFound:
            return render(request, "web/invitation.html", {"gone": True}, status=404)
        except DomainError as exc:
            form.refuse(exc)
        if membership is not None:
            seller = found.seller.display_name
            if signed_in:
                messages.success(
                    request,
                    _("You work for %(seller)s as %(role)s.")
                    % {"seller": seller, "role": membership.get_role_display().lower()},
                )
                return redirect("home")
            messages.success(
                request,
                _("Your account is ready: sign in to work for %(seller)s.") % {"seller": seller},
            )
            return redirect("signin")
        if invitation_open(key) is None:
            return render(request, "web/invitation.html", {"gone": True}, status=404)
    context = {
        "invitation": found,
        "signed_in": signed_in,
        "errors": form.error_lists(),
        "typed_name": typed_name,
        "role": Membership.Role(found.role).label,
    }
    response = render(request, "web/invitation.html", context)
    # The key is in the address: not kept by caches; SECURE_REFERRER_POLICY (same-origin)
    # keeps it from other sites. ("no-referrer" would make browsers send "Origin: null",
    # which the CSRF check refuses.)
    response["Cache-Control"] = "no-store"
    return response


@page
def token_list(request: HttpRequest) -> HttpResponse:
    viewer = _owner(request)
    assert viewer.seller is not None
    form = TokenForm(request.POST if request.method == "POST" else None)
    raw = ""
    typed_name = ""
    if form.is_bound:
        typed_name = form.value("name", "")
        try:
            if form.is_valid():
                token, raw = token_create(
                    actor=Actor(user=request.user),
                    name=typed_name,
                    seller=viewer.seller.external_id,
                    read_only=form.cleaned_data["read_only"],
                )
        except DomainError as exc:
            form.refuse(exc)
        if raw:
            typed_name = ""
            messages.success(request, _("Token “%(name)s” was created.") % {"name": token.name})
    context = base_context(
        viewer,
        "tokens",
        tokens=list(seller_tokens(viewer.seller)),
        raw=raw,
        errors=form.error_lists(),
        typed_name=typed_name,
    )
    response = render(request, "web/tokens.html", context)
    if raw:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@page
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    viewer = _owner(request)
    assert viewer.seller is not None
    token = seller_tokens(viewer.seller).filter(pk=token_id).first()
    if token is None:
        raise NotFound(_("No such token."))
    if not ConfirmForm(request.POST).confirmed:
        context = base_context(
            viewer,
            "tokens",
            confirm_title=_("Revoke the token “%(name)s”?") % {"name": token.name},
            confirm_lines=[
                _(
                    "Every program that uses it (prefix %(prefix)s…) stops working at once; "
                    "this cannot be undone."
                )
                % {"prefix": token.prefix}
            ],
            confirm_action=reverse("token_revoke", args=[token.pk]),
            confirm_button=_("Yes, revoke it"),
            cancel_url=reverse("tokens"),
        )
        return render(request, "web/confirm.html", context)
    token_revoke(actor=Actor(user=request.user), token_id=token.pk)
    messages.success(request, _("Token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("tokens")
