"""The SP-API connection page: connect with the merchant's own credentials, sync, reconnect."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from defectdesk.core.errors import DomainError
from defectdesk.mirror.connector import connection_disconnect, connection_save, sync_schedule
from defectdesk.mirror.models import SpApiConnection, SyncReport
from defectdesk.mirror.selectors import account_for
from defectdesk.web.common import base_context, field_errors, page, viewer_at, viewer_for


class ConnectionForm(forms.Form):
    client_id = forms.CharField(label=gettext_lazy("LWA client id"), max_length=2000)
    client_secret = forms.CharField(
        label=gettext_lazy("LWA client secret"), max_length=2000, widget=forms.PasswordInput
    )
    refresh_token = forms.CharField(
        label=gettext_lazy("Refresh token"), max_length=2000, widget=forms.PasswordInput
    )


@require_http_methods(["GET", "HEAD", "POST"])
@page
def mirror_connection(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_for(request.user, account_id)
    viewer = viewer_at(viewer_for(request), account.seller, account.marketplace)
    form = ConnectionForm()
    if request.method == "POST":
        step = str(request.POST.get("step", ""))
        try:
            if step == "connect":
                form = ConnectionForm(request.POST)
                if form.is_valid():
                    connection_save(actor=request.user, account=account, **form.cleaned_data)
                    messages.success(
                        request,
                        _("Connected. The secret is stored encrypted and never shown again."),
                    )
                    return redirect("mirror_connection", account.pk)
            elif step == "sync":
                sync_schedule(actor=request.user, account=account)
                messages.success(
                    request,
                    _(
                        "Sync scheduled: the reports are requested, then downloaded when "
                        "Amazon has them ready."
                    ),
                )
                return redirect("mirror_connection", account.pk)
            elif step == "disconnect":
                connection_disconnect(actor=request.user, account=account)
                messages.success(request, _("Disconnected. Imported documents are kept."))
                return redirect("mirror_connection", account.pk)
        except DomainError as exc:
            for name, errs in field_errors(exc).items():
                for err in errs:
                    form.add_error(name if name in form.fields else None, err)
            if not exc.errors:
                form.add_error(None, exc.detail)
    connection = SpApiConnection.objects.filter(account=account).first()
    reports = (
        list(SyncReport.objects.filter(connection=connection).order_by("-created_at", "-id")[:30])
        if connection
        else []
    )
    return render(
        request,
        "mirror/connection.html",
        base_context(
            viewer, "amazon", account=account, connection=connection, reports=reports, form=form
        ),
    )
