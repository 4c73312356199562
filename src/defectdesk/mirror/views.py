"""Mirror mode's pages: Amazon accounts, uploads, reconciliation, requests for Amazon, the entry
of what Amazon hides, and the SP-API connection. Thin views over actions and selectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from defectdesk.core.errors import DomainError, NotFound
from defectdesk.core.timeutil import zone
from defectdesk.defects.models import Defect
from defectdesk.defects.selectors import defect_for
from defectdesk.mirror import actions
from defectdesk.mirror.importing import amazon_import
from defectdesk.mirror.models import HiddenFact, MirrorAccount, MirrorCase, RawDocument
from defectdesk.mirror.notice import notice_read
from defectdesk.mirror.profile import REMOVAL_CRITERIA, SITES, amazon_rules
from defectdesk.mirror.reconcile import reconciliation_for
from defectdesk.mirror.reports import REPORT_KINDS
from defectdesk.mirror.selectors import (
    account_for,
    accounts_visible_to,
    case_for,
    cases_visible_to,
    documents_of,
)
from defectdesk.web.common import base_context, field_errors, page, viewer_at, viewer_for

UPLOAD_TYPES = [(k.code, f"{k.label} ({k.code})") for k in REPORT_KINDS.values()]


class AccountForm(forms.Form):
    site = forms.ChoiceField(
        label=gettext_lazy("Amazon marketplace"), choices=[(s, s) for s in SITES]
    )
    selling_partner_id = forms.CharField(
        label=gettext_lazy("Your merchant token (optional)"),
        required=False,
        max_length=20,
        help_text=gettext_lazy(
            "Seller Central, Settings, Account Info, Merchant Token. With it, documents of "
            "another seller's account are refused."
        ),
    )


class UploadForm(forms.Form):
    report_type = forms.ChoiceField(label=gettext_lazy("Report type"), choices=UPLOAD_TYPES)
    file = forms.FileField(label=gettext_lazy("File"))
    window_from = forms.DateField(label=gettext_lazy("Report covers from"), required=False)
    window_to = forms.DateField(label=gettext_lazy("to"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("window_from"), data.get("window_to")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("Give both days of the report's window, or neither."))
        if start and end and start > end:
            raise forms.ValidationError(_("The window starts after it ends."))
        return data


class EntryForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What Amazon told you"), choices=HiddenFact.Kind.choices
    )
    order = forms.CharField(label=gettext_lazy("Order id"), max_length=19)
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        required=False,
        choices=[
            ("", "-"),
            *[
                (r, r.replace("_", " "))
                for r in (*actions.CHARGEBACK_REASONS, "return_not_refunded")
            ],
        ],
    )
    deadline = forms.DateTimeField(
        label=gettext_lazy("Amazon's deadline"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reference = forms.CharField(
        label=gettext_lazy("Amazon's reference"), required=False, max_length=100
    )


class RecordForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(o, MirrorCase.Status(o).label) for o in actions.RECORDABLE]
    )
    deadline = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea)
    reference = forms.CharField(required=False, max_length=100)


def _accounts(request: HttpRequest, seller_id: int | None) -> list[MirrorAccount]:
    if seller_id is None:
        return []
    return list(accounts_visible_to(request.user).filter(seller_id=seller_id))


@require_http_methods(["GET", "HEAD"])
@page
def mirror_home(request: HttpRequest) -> HttpResponse:
    """The seller's Amazon accounts: add one, upload documents, see what was imported."""
    viewer = viewer_for(request)
    seller_id = viewer.seller.pk if viewer.seller else None
    accounts = _accounts(request, seller_id)
    rows = []
    for account in accounts:
        rows.append(
            {
                "account": account,
                "documents": list(documents_of(account)[:20]),
                "cases": list(cases_visible_to(request.user).filter(account=account)[:50]),
                "connection": getattr(account, "connection", None)
                if hasattr(account, "connection")
                else None,
            }
        )
    return render(
        request,
        "mirror/home.html",
        base_context(
            viewer,
            "amazon",
            rows=rows,
            account_form=AccountForm(),
            upload_form=UploadForm(),
        ),
    )


@require_POST
@page
def mirror_account_add(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    if viewer.seller is None:
        raise NotFound(_("Choose a seller first."))
    form = AccountForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("The Amazon marketplace was not added: %(e)s") % {"e": form.errors.as_text()}
        )
        return redirect("mirror_home")
    try:
        account = actions.mirror_account_create(
            actor=request.user,
            seller=viewer.seller.pk,
            site=form.cleaned_data["site"],
            selling_partner_id=form.cleaned_data["selling_partner_id"],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("mirror_home")
    messages.success(
        request,
        _("%(site)s added as marketplace %(code)s. Amazon decides there; upload its reports below.")
        % {"site": account.site, "code": account.marketplace.code},
    )
    return redirect("mirror_home")


@require_POST
@page
def mirror_upload(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_for(request.user, account_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Nothing was imported: %(e)s") % {"e": form.errors.as_text()})
        return redirect("mirror_home")
    upload = form.cleaned_data["file"]
    start, end = form.cleaned_data.get("window_from"), form.cleaned_data.get("window_to")
    try:
        report = amazon_import(
            actor=request.user,
            account=account,
            report_type=form.cleaned_data["report_type"],
            content=upload.read(),
            filename=str(upload.name or "")[:200],
            window=(start, end) if start and end else None,
            source=RawDocument.Source.UPLOAD,
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("mirror_home")
    for line in report.lines()[:12]:
        (messages.warning if report.rejected else messages.success)(request, line)
    return redirect("mirror_home")


@require_http_methods(["GET", "HEAD"])
@page
def mirror_reconcile(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_for(request.user, account_id)
    viewer = viewer_at(viewer_for(request), account.seller, account.marketplace)
    return render(
        request,
        "mirror/reconcile.html",
        base_context(viewer, "amazon", account=account, rec=reconciliation_for(account)),
    )


def _aware(value: datetime | None, tz: Any) -> datetime | None:
    if value is None:
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value, tz)


@require_http_methods(["GET", "HEAD", "POST"])
@page
def mirror_enter(request: HttpRequest, account_id: int) -> HttpResponse:
    """Enter an A-to-z claim, a chargeback or an information request from Amazon's e-mail;
    pasting the e-mail fills the form where it can."""
    account = account_for(request.user, account_id)
    viewer = viewer_at(viewer_for(request), account.seller, account.marketplace)
    tz = zone(account.marketplace.timezone)
    pasted = str(request.POST.get("email", ""))[:50_000].replace("\x00", "")
    found: dict[str, Any] = {}
    if request.method == "POST" and "read_email" in request.POST:
        found = notice_read(pasted, received=timezone.now(), tz=tz)
        initial = {k: v for k, v in found.items() if k in ("kind", "order", "reason", "reference")}
        if "deadline" in found:
            initial["deadline"] = found["deadline"].astimezone(tz).replace(tzinfo=None)
        form = EntryForm(initial=initial)
        if not found:
            messages.warning(request, _("Nothing in the text looks like Amazon's notification."))
    elif request.method == "POST":
        form = EntryForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with timezone.override(tz):
                    deadline = _aware(data.get("deadline"), tz)
                fact = actions.hidden_fact_enter(
                    actor=request.user,
                    account=account,
                    kind=data["kind"],
                    order_ref=data["order"],
                    reason=data.get("reason")
                    or ("" if data["kind"] == "info_request" else "other"),
                    deadline=deadline,
                    reference=data.get("reference", ""),
                )
            except DomainError as exc:
                for name, errs in field_errors(exc).items():
                    for err in errs:
                        form.add_error(name if name in form.fields else None, err)
                if not exc.errors:
                    form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _("%(kind)s on order %(order)s entered.")
                    % {"kind": fact.get_kind_display(), "order": fact.order_ref},
                )
                return redirect("mirror_home")
    else:
        form = EntryForm()
    return render(
        request,
        "mirror/enter.html",
        base_context(viewer, "amazon", account=account, form=form, email=pasted, found=found),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@page
def mirror_case_new(request: HttpRequest, defect_id: int) -> HttpResponse:
    """Choose how to ask Amazon about one defect (for feedback: the removal criterion)."""
    defect: Defect = defect_for(request.user, defect_id)
    if not defect.marketplace.external:
        raise NotFound(_("Defect %(id)s is not on an Amazon marketplace.") % {"id": defect_id})
    account = (
        accounts_visible_to(request.user)
        .filter(seller_id=defect.seller_id, marketplace_id=defect.marketplace_id)
        .first()
    )
    if account is None:
        raise NotFound(_("Defect %(id)s not found.") % {"id": defect_id})
    viewer = viewer_at(viewer_for(request), account.seller, account.marketplace)
    error = ""
    if request.method == "POST":
        try:
            case = actions.case_draft(
                actor=request.user,
                account=account,
                defect=defect,
                criterion=str(request.POST.get("criterion", ""))[:64],
            )
        except DomainError as exc:
            error = " ".join([m for msgs in field_errors(exc).values() for m in msgs] or [str(exc)])
        else:
            return redirect("mirror_case", case.pk)
    return render(
        request,
        "mirror/case_new.html",
        base_context(
            viewer,
            "amazon",
            account=account,
            defect=defect,
            criteria=REMOVAL_CRITERIA,
            error=error,
            rules=amazon_rules(),
        ),
    )


@require_POST
@page
def mirror_plan(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_for(request.user, account_id)
    try:
        case = actions.plan_of_action_build(actor=request.user, account=account)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("mirror_home")
    return redirect("mirror_case", case.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@page
def mirror_case(request: HttpRequest, case_id: int) -> HttpResponse:
    """One request: its text to edit and copy, and what Amazon answered, as recorded."""
    case = case_for(request.user, case_id)
    viewer = viewer_at(viewer_for(request), case.seller, case.marketplace)
    tz = zone(case.marketplace.timezone)
    record_form = RecordForm()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        step = str(request.POST.get("step", ""))
        try:
            if step == "edit":
                actions.case_edit(actor=request.user, case=case, body=request.POST.get("body", ""))
                messages.success(request, _("The text is saved."))
            elif step == "export":
                case = actions.case_export(actor=request.user, case=case)
                response = HttpResponse(case.body, content_type="text/plain; charset=utf-8")
                response["Content-Disposition"] = (
                    f'attachment; filename="amazon-request-{case.pk}.txt"'
                )
                return response
            elif step == "record":
                record_form = RecordForm(request.POST)
                if record_form.is_valid():
                    data = record_form.cleaned_data
                    actions.case_record(
                        actor=request.user,
                        case=case,
                        outcome=data["outcome"],
                        note=data.get("note") or "",
                        deadline=_aware(data.get("deadline"), tz),
                        reference=data.get("reference") or "",
                    )
                    messages.success(
                        request,
                        _("Recorded: %(state)s.")
                        % {"state": MirrorCase.Status(data["outcome"]).label},
                    )
                else:
                    errors = {k: [str(m) for m in v] for k, v in record_form.errors.items()}
                    raise _Stay()
            return redirect("mirror_case", case.pk)
        except _Stay:
            pass
        except DomainError as exc:
            errors = field_errors(exc) or {"": [str(exc)]}
            if not exc.errors:
                errors = {"": [str(exc)]}
        case = case_for(request.user, case_id)
    return render(
        request,
        "mirror/case.html",
        base_context(
            viewer,
            "amazon",
            case=case,
            record_form=record_form,
            errors=errors,
            may_write=viewer.may_write,
            next_steps=sorted(actions.TRANSITIONS.get(case.status, frozenset())),
            statuses=MirrorCase.Status,
        ),
    )


class _Stay(Exception):
    """Render the page again with the form's errors."""
