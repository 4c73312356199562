"""Appeal pages: the form (new and draft), the list by tab, the appeal page and its replies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from defectdesk.appeals.actions import (
    appeal_attach,
    appeal_create,
    appeal_reply,
    appeal_submit,
    appeal_update,
    appeal_withdraw,
    writer_check,
)
from defectdesk.appeals.evidence import explanation_suggest
from defectdesk.appeals.models import Appeal
from defectdesk.appeals.policy import appeal_rules_for
from defectdesk.appeals.reasons import reasons_for
from defectdesk.appeals.rules_policy import AppealRules
from defectdesk.appeals.selectors import (
    appeal_for,
    appeal_history,
    appealable_until,
    appeals_left,
    appeals_visible_to,
    defect_for_appeal,
    open_appeal_for_defect,
    order_state_of,
)
from defectdesk.appeals.transitions import Status
from defectdesk.appeals.uploads import (
    EXTENSIONS,
    STORED_EXTENSION,
    upload_check,
)
from defectdesk.core.datacache import cached, shows_seller
from defectdesk.core.errors import Conflict, DomainError, Forbidden, TooLarge
from defectdesk.core.language import language_supported
from defectdesk.core.multipart import sent_file_names
from defectdesk.defects.models import Defect
from defectdesk.web.common import Viewer, base_context, field_errors, page, viewer_at, viewer_for

Upload = tuple[str, bytes]

LIST_CACHE_SECONDS = 60
LIST_DEFERRED = (
    "explanation",
    "system_evidence",
    "recommendations",
    "decision_facts",
    "decision_note",
    "defect__ledger_intervals",
    "defect__source_event_ids",
    "defect__removal_detail",
    "defect__order__items",
)
TABS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "action": (gettext_lazy("Action required"), (Status.INFO_REQUESTED, Status.DRAFT)),
    "review": (gettext_lazy("Under review"), (Status.SUBMITTED, Status.IN_REVIEW)),
    "decided": (gettext_lazy("Decided"), (Status.APPROVED, Status.DENIED, Status.WITHDRAWN)),
}
FIELD_OF = {"file": "files", "defect": "", "body": "", "message": "message"}
FIELD_LABELS: dict[str, Any] = {
    "reason": gettext_lazy("Reason"),
    "explanation": gettext_lazy("Explanation"),
    "files": gettext_lazy("Supporting files"),
    "message": gettext_lazy("Your reply"),
}


@dataclass
class FormState:
    """What the merchant typed, kept across an error, and the errors by field."""

    reason: str = ""
    explanation: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


def _errors(exc: DomainError) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    found = field_errors(exc)
    if isinstance(exc, TooLarge) or not found:
        target = "files" if isinstance(exc, TooLarge) else ""
        found = {target: [exc.detail]}
    for name, items in found.items():
        target = FIELD_OF.get(name, name)
        label = FIELD_LABELS.get(target)
        grouped.setdefault(target, []).extend(
            f"{label} {m}" if label and m.startswith(("is ", "must ")) else m for m in items
        )
    grouped.setdefault("", [])
    if not grouped[""]:
        grouped[""] = [exc.detail]
    return grouped


def _uploads(request: HttpRequest) -> list[Upload]:
    files = request.FILES.getlist("files")
    return [
        (name, f.read()) for name, f in zip(sent_file_names(request, files), files, strict=True)
    ]


def _uploads_check(uploads: list[Upload], rules: AppealRules) -> None:
    """Refuse a bad file before anything is written (the action checks again)."""
    for name, content in uploads:
        upload_check(name, content, rules, "files")


def _form_context(
    viewer: Viewer, defect: Defect, form: FormState, appeal: Appeal | None = None
) -> dict[str, Any]:
    rules = appeal_rules_for(defect.marketplace_id)
    state, _events = order_state_of(defect)
    # The suggestion is written in the marketplace's language (the reviewer reads it); a merchant
    # reading another language gets the same text in theirs alongside, to understand, not send.
    market_language = _market_language(defect)
    reading_language = translation.get_language() or "en"
    bilingual = market_language != reading_language
    catalogue = {}
    for r in reasons_for(defect.kind):
        with translation.override(market_language):
            suggestion = explanation_suggest(state, defect.kind, r.code, defect.source_key)
        catalogue[r.code] = {
            "label": r.label,
            "guidance": r.guidance,
            "suggestion": suggestion,
            "reading": explanation_suggest(state, defect.kind, r.code, defect.source_key)
            if bilingual
            else "",
        }
    chosen = form.reason if form.reason in catalogue else ""
    types = sorted({STORED_EXTENSION[t].upper() for t in rules.allowed_types})
    return base_context(
        viewer,
        "appeals",
        defect=defect,
        defect_label=dict(Defect.Kind.choices).get(defect.kind, defect.kind),
        order=defect.order,
        appeal=appeal,
        files=list(appeal.files.all()) if appeal is not None else [],
        form=form,
        general_errors=form.errors.get("", []),
        reasons=reasons_for(defect.kind),
        catalogue=catalogue,
        chosen=catalogue.get(chosen),
        suggestion_language=market_language,
        suggestion_language_name=translation.get_language_info(market_language)["name_translated"]
        if bilingual
        else "",
        rules=rules,
        max_mb=f"{rules.max_file_bytes / (1024 * 1024):g}",
        file_types=", ".join(types),
        accept=",".join(f".{e}" for t in rules.allowed_types for e in _exts(t)),
        appealable_until=appealable_until(defect),
    )


def _exts(content_type: str) -> tuple[str, ...]:
    return EXTENSIONS[content_type]


def _form_from(request: HttpRequest) -> FormState:
    return FormState(
        reason=request.POST.get("reason", "")[:64],
        explanation=request.POST.get("explanation", ""),
    )


def _suggest_into(form: FormState, defect: Defect) -> None:
    if not form.reason:
        form.errors = {"reason": [_("Choose a reason first; the suggestion depends on it.")]}
        return
    state, _events = order_state_of(defect)
    with translation.override(_market_language(defect)):
        form.explanation = explanation_suggest(state, defect.kind, form.reason, defect.source_key)


def _market_language(defect: Defect) -> str:
    return language_supported(defect.marketplace.default_language) or "en"


KEPT = "kept_appeal_text"
KEPT_FIELDS = ("reason", "explanation", "message")


def _kept_on_expiry(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A form posted after the session expired is kept in the new session, and the sign-in
    page says why it is asked for; the form shows the text again once signed in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST" and not request.user.is_authenticated:
            page_path = request.path.removesuffix("reply/")
            request.session[KEPT] = {
                "path": page_path,
                "fields": {k: request.POST.get(k, "")[:10_000] for k in KEPT_FIELDS},
            }
            messages.warning(
                request,
                _("Your session expired; sign in again to continue — your text is kept."),
            )
            return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': page_path})}")
        return view(request, *args, **kwargs)

    return wrapped


def _kept_text(request: HttpRequest) -> dict[str, str]:
    """The text kept from a form posted to this page after the session expired (once)."""
    kept = request.session.get(KEPT)
    if not isinstance(kept, dict) or kept.get("path") != request.path:
        return {}
    del request.session[KEPT]
    fields = kept.get("fields") or {}
    return {k: str(fields.get(k, "")) for k in KEPT_FIELDS}


@_kept_on_expiry
@page
def appeal_new(request: HttpRequest, defect_id: int) -> HttpResponse:
    viewer = viewer_for(request)
    defect = defect_for_appeal(viewer.principal, defect_id)
    viewer = viewer_at(viewer, defect.seller, defect.marketplace)
    existing = open_appeal_for_defect(defect)
    if existing is not None and request.method != "POST":
        return redirect("appeal", existing.pk)
    # Refuse before the form is shown, not after someone has typed an explanation into it.
    writer_check(viewer.principal, defect.seller_id)
    kept = _kept_text(request)
    form = FormState(reason=kept.get("reason", ""), explanation=kept.get("explanation", ""))
    if request.method == "POST":
        form = _form_from(request)
        action = request.POST.get("action", "save")
        if action == "suggest":
            _suggest_into(form, defect)
        else:
            uploads = _uploads(request)
            rules = appeal_rules_for(defect.marketplace_id)
            try:
                with transaction.atomic():
                    _uploads_check(uploads, rules)
                    appeal = appeal_create(
                        actor=viewer.principal,
                        defect=defect.pk,
                        reason=form.reason,
                        explanation=form.explanation,
                    )
                    if uploads:
                        appeal_attach(actor=viewer.principal, appeal=appeal, uploads=uploads)
                    if action == "submit":
                        appeal_submit(actor=viewer.principal, appeal=appeal)
            except Conflict as exc:
                again = open_appeal_for_defect(defect)
                if again is None:
                    form.errors = _errors(exc)
                else:
                    messages.info(
                        request,
                        _(
                            "This defect already has an open appeal (#%(id)s), perhaps from a "
                            "second click or another tab; here it is. No second appeal was made."
                        )
                        % {"id": again.pk},
                    )
                    return redirect("appeal", again.pk)
            except DomainError as exc:
                if exc.status in (403, 404):
                    raise
                form.errors = _errors(exc)
            else:
                if action == "submit":
                    messages.success(request, _("Your appeal was submitted."))
                else:
                    messages.success(request, _("Your draft was saved."))
                return redirect("appeal", appeal.pk)
    context = _form_context(viewer, defect, form)
    return render(request, "web/appeal_form.html", context)


def _draft_post(request: HttpRequest, viewer: Viewer, appeal: Appeal) -> HttpResponse:
    form = _form_from(request)
    action = request.POST.get("action", "save")
    defect = appeal.defect
    if action == "suggest":
        _suggest_into(form, defect)
    else:
        uploads = _uploads(request)
        rules = appeal_rules_for(appeal.marketplace_id)
        try:
            with transaction.atomic():
                _uploads_check(uploads, rules)
                appeal_update(
                    actor=viewer.principal,
                    appeal=appeal.pk,
                    reason=form.reason,
                    explanation=form.explanation,
                )
                if uploads:
                    appeal_attach(actor=viewer.principal, appeal=appeal.pk, uploads=uploads)
                if action == "submit":
                    appeal_submit(actor=viewer.principal, appeal=appeal.pk)
        except Conflict as exc:
            current = appeal_for(viewer.principal, appeal.pk)
            if current.status != Status.DRAFT:
                messages.warning(
                    request,
                    _(
                        "This appeal was already %(state)s elsewhere (another tab or a "
                        "colleague), so this form was not applied. Its current state is below."
                    )
                    % {"state": current.get_status_display().lower()},
                )
                return _status_page(request, viewer, current, stale_text=form.explanation)
            form.errors = _errors(exc)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            form.errors = _errors(exc)
        else:
            if action == "submit":
                messages.success(request, _("Your appeal was submitted."))
            else:
                messages.success(request, _("Your draft was saved."))
            return redirect("appeal", appeal.pk)
    context = _form_context(viewer, defect, form, appeal)
    return render(request, "web/appeal_form.html", context)


def _status_page(
    request: HttpRequest,
    viewer: Viewer,
    appeal: Appeal,
    *,
    reply_text: str = "",
    reply_errors: dict[str, list[str]] | None = None,
    stale_text: str = "",
) -> HttpResponse:
    defect = appeal.defect
    reason = next((r for r in reasons_for(defect.kind) if r.code == appeal.reason), None)
    rules = appeal_rules_for(appeal.marketplace_id)
    conversation = list(appeal.messages.all())
    context = base_context(
        viewer,
        "appeals",
        appeal=appeal,
        defect=defect,
        defect_label=dict(Defect.Kind.choices).get(defect.kind, defect.kind),
        order=defect.order,
        reason_label=reason.label if reason else appeal.reason,
        files=list(appeal.files.all()),
        conversation=conversation,
        history=_history(appeal),
        question=next((m for m in reversed(conversation) if m.kind == "question"), None),
        reply_general=(reply_errors or {}).get("", []),
        may_write=viewer.principal.may_write_seller(appeal.seller_id),
        reply_text=reply_text,
        reply_errors=reply_errors or {},
        stale_text=stale_text,
        rules=rules,
        max_mb=f"{rules.max_file_bytes / (1024 * 1024):g}",
        file_types=", ".join(sorted({STORED_EXTENSION[t].upper() for t in rules.allowed_types})),
        is_open=appeal.status not in (Status.APPROVED, Status.DENIED, Status.WITHDRAWN),
        in_review=appeal.status in (Status.SUBMITTED, Status.IN_REVIEW),
    )
    return render(request, "web/appeal_detail.html", context)


ACTION_TITLES: dict[str, Any] = {
    "appeal.create": gettext_lazy("Draft started"),
    "appeal.update": gettext_lazy("Draft edited"),
    "appeal.attach": gettext_lazy("Files attached"),
    "appeal.submit": gettext_lazy("Submitted"),
    "appeal.pick_up": gettext_lazy("Picked up for review"),
    "appeal.assign": gettext_lazy("Assigned to a reviewer"),
    "appeal.request_info": gettext_lazy("Information requested"),
    "appeal.reply": gettext_lazy("You replied"),
    "appeal.decide": gettext_lazy("Decided"),
    "appeal.approve": gettext_lazy("Approved"),
    "appeal.deny": gettext_lazy("Denied"),
    "appeal.expire": gettext_lazy("Denied: the reply deadline passed"),
    "appeal.withdraw": gettext_lazy("Withdrawn"),
    "appeal.overdue": gettext_lazy("The decision is overdue"),
}


def _history(appeal: Appeal) -> list[dict[str, Any]]:
    out = []
    for event in appeal_history(appeal):
        expired = event.action == "appeal.deny" and (event.data or {}).get("cause") == "expired"
        title = ACTION_TITLES.get("appeal.expire" if expired else event.action)
        if title is None:
            target = event.to_state
            title = str(Status(target).label) if target in Status.values else event.action
        out.append(
            {
                "at": event.occurred_at,
                "title": title,
                "actor": _("the marketplace's rules")
                if event.actor_label.startswith("rule:")
                else event.actor_label,
                "note": event.note,
            }
        )
    return out


@_kept_on_expiry
@page
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    viewer = viewer_for(request)
    appeal = appeal_for(viewer.principal, appeal_id)
    viewer = viewer_at(viewer, appeal.seller, appeal.marketplace)
    editable = appeal.status == Status.DRAFT and viewer.may_write
    if request.method == "POST":
        if not viewer.may_write:
            raise Forbidden(_("Read-only access: you may view this appeal but not change it."))
        return _draft_post(request, viewer, appeal)
    kept = _kept_text(request)
    if editable:
        form = FormState(
            reason=kept.get("reason") or appeal.reason,
            explanation=kept.get("explanation") or appeal.explanation,
        )
        return render(
            request, "web/appeal_form.html", _form_context(viewer, appeal.defect, form, appeal)
        )
    return _status_page(request, viewer, appeal, reply_text=kept.get("message", ""))


@require_POST
@_kept_on_expiry
@page
def appeal_reply_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    viewer = viewer_for(request)
    appeal = appeal_for(viewer.principal, appeal_id)
    viewer = viewer_at(viewer, appeal.seller, appeal.marketplace)
    text = request.POST.get("message", "")
    uploads = _uploads(request)
    try:
        rules = appeal_rules_for(appeal.marketplace_id)
        _uploads_check(uploads, rules)
        appeal_reply(actor=viewer.principal, appeal=appeal, message=text, uploads=uploads)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        current = appeal_for(viewer.principal, appeal_id)
        return _status_page(
            request,
            viewer,
            current,
            reply_text=text,
            reply_errors=_errors(exc),
        )
    messages.success(request, _("Your reply was sent; the appeal is back in review."))
    return redirect("appeal", appeal.pk)


@page
def appeal_withdraw_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    viewer = viewer_for(request)
    appeal = appeal_for(viewer.principal, appeal_id)
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        writer_check(viewer.principal, appeal.seller_id)
        left, most = appeals_left(appeal.defect)
        counted = appeal.submitted_at is not None
        lines = [
            _("The appeal stops here; a withdrawn appeal cannot be reopened."),
            ngettext(
                "After this you can still file %(left)d appeal of this defect "
                "(at most %(most)d per defect%(note)s).",
                "After this you can still file %(left)d appeals of this defect "
                "(at most %(most)d per defect%(note)s).",
                left,
            )
            % {
                "left": left,
                "most": most,
                "note": _("; this one counts, as it was submitted") if counted else "",
            },
        ]
        context = base_context(
            Viewer(viewer.principal, appeal.seller),
            "appeals",
            confirm_title=_("Withdraw appeal #%(id)s?") % {"id": appeal.pk},
            confirm_lines=lines,
            confirm_action=reverse("appeal_withdraw", args=[appeal.pk]),
            confirm_button=_("Yes, withdraw the appeal"),
            cancel_url=reverse("appeal", args=[appeal.pk]),
        )
        return render(request, "web/confirm.html", context)
    try:
        appeal_withdraw(actor=viewer.principal, appeal=appeal.pk)
    except Conflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("The appeal was withdrawn."))
    return redirect("appeal", appeal.pk)


@page
def appeal_list(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    tab = request.GET.get("tab", "action")
    if tab not in TABS:
        tab = "action"
    page_number = request.GET.get("page")

    # The same for everyone who may see the seller until an appeal or the ledger changes
    # (every appeal action is audited, which changes the data version).
    def render_body() -> str:
        return render_to_string(
            "web/appeal_list_body.html",
            _appeal_list_context(viewer, tab, page_number),
            request=request,
        )

    if viewer.seller is None:
        body = render_body()
    else:
        market = viewer.marketplace.pk if viewer.marketplace is not None else None
        shown = (market, tab, sorted(request.GET.lists()))
        shows = shows_seller(viewer.seller.pk)
        body = cached("web:appeals", shows, shown, render_body, LIST_CACHE_SECONDS)
    context = base_context(viewer, "appeals", body=mark_safe(body))  # nosec B703 # HTML rendered by an autoescaping template
    return render(request, "web/appeal_list.html", context)


def _appeal_list_context(viewer: Viewer, tab: str, page_number: str | None) -> dict[str, Any]:
    visible = appeals_visible_to(viewer.principal)
    visible = visible.filter(seller=viewer.seller) if viewer.seller is not None else visible.none()
    if viewer.marketplace is not None:
        visible = visible.filter(marketplace=viewer.marketplace)
    counts = {
        name: visible.filter(status__in=list(statuses)).count()
        for name, (_label, statuses) in TABS.items()
    }
    chosen = visible.filter(status__in=list(TABS[tab][1]))
    if tab == "action":
        chosen = chosen.order_by("info_due_at", "-updated_at", "-id")
    elif tab == "review":
        chosen = chosen.order_by("review_due_at", "id")
    else:
        chosen = chosen.order_by("-updated_at", "-id")
    # The list shows none of the long texts and JSON documents of the appeal and its defect.
    chosen = chosen.defer(*LIST_DEFERRED)
    current = Paginator(chosen, 50).get_page(page_number)
    rows = list(current.object_list)
    labels = dict(Defect.Kind.choices)
    for appeal in rows:
        appeal.kind_label = labels.get(appeal.defect_kind, appeal.defect_kind)  # type: ignore[attr-defined]
    tabs = [(name, label, counts[name]) for name, (label, _s) in TABS.items()]
    return {"tab": tab, "tabs": tabs, "page": current, "rows": rows}
