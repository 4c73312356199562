"""Appeal pages: the form (new and draft), the list by tab, the appeal page and its replies."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
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
    appeal_file,
    appeal_reply,
    appeal_withdraw,
    writer_check,
)
from defectdesk.appeals.evidence import explanation_suggest
from defectdesk.appeals.models import Appeal
from defectdesk.appeals.policy import appeal_rules_for
from defectdesk.appeals.reasons import reasons_for
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
)
from defectdesk.core.datacache import cached, shows_seller
from defectdesk.core.errors import Conflict, DomainError, Forbidden, TooLarge
from defectdesk.core.language import language_supported
from defectdesk.core.multipart import sent_file_names
from defectdesk.defects.models import Defect
from defectdesk.web.common import Viewer, base_context, field_errors, page, viewer_at, viewer_for
from defectdesk.web.forms import AppealListForm, AppealReplyForm, ConfirmForm

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


class AppealForm(forms.Form):
    """The appeal form (new and draft): the texts and the button pressed. Whether a reason or an
    explanation is acceptable is the action's to say (its refusals name the field); the files
    are read from the request with their names as sent (`_uploads`) and checked by the action."""

    ACTIONS = ("save", "submit", "suggest")

    reason = forms.CharField(max_length=64, required=False)
    explanation = forms.CharField(required=False, strip=False)
    action = forms.CharField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only where the action's refusals of a file are shown (`files` is also a Form attribute).
        self.fields["files"] = forms.Field(required=False)

    def clean_action(self) -> str:
        chosen = self.cleaned_data.get("action") or "save"
        return chosen if chosen in self.ACTIONS else "save"

    def text(self, name: str) -> str:
        """What the merchant typed (or the form started with), to show again."""
        value = self[name].value()
        return "" if value is None else str(value)

    def refusal_show(self, exc: DomainError) -> None:
        """Put an action's refusal on the fields it names (the rest above the form)."""
        for name, items in _errors(exc).items():
            for message in items:
                self.add_error(name if name in self.fields else None, message)


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


def _form_context(
    viewer: Viewer, defect: Defect, form: AppealForm, appeal: Appeal | None = None
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
    reason = form.text("reason")
    chosen = reason if reason in catalogue else ""
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
        reason=reason,
        explanation=form.text("explanation"),
        general_errors=form.non_field_errors(),
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


def _suggest_into(form: AppealForm, defect: Defect) -> AppealForm:
    """The form again with the suggested explanation for the chosen reason in it."""
    reason = form.cleaned_data.get("reason", "")
    if not reason:
        form.add_error("reason", _("Choose a reason first; the suggestion depends on it."))
        return form
    state, _events = order_state_of(defect)
    with translation.override(_market_language(defect)):
        text = explanation_suggest(state, defect.kind, reason, defect.source_key)
    return AppealForm(initial={"reason": reason, "explanation": text})


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
    form = AppealForm(
        initial={"reason": kept.get("reason", ""), "explanation": kept.get("explanation", "")}
    )
    if request.method != "POST":
        return render(request, "web/appeal_form.html", _form_context(viewer, defect, form))

    def shown_instead(exc: Conflict, form: AppealForm) -> HttpResponse | None:
        """A second click or tab: the appeal it made is shown, with no second one made."""
        again = open_appeal_for_defect(defect)
        if again is None:
            return None
        messages.info(
            request,
            _(
                "This defect already has an open appeal (#%(id)s), perhaps from a "
                "second click or another tab; here it is. No second appeal was made."
            )
            % {"id": again.pk},
        )
        return redirect("appeal", again.pk)

    return _appeal_form_post(request, viewer, defect, None, shown_instead)


def _appeal_form_post(
    request: HttpRequest,
    viewer: Viewer,
    defect: Defect,
    appeal: Appeal | None,
    on_conflict: Callable[[Conflict, AppealForm], HttpResponse | None],
) -> HttpResponse:
    """The appeal form posted, for a new appeal or a draft: `suggest` fills in the suggested
    explanation; saving or submitting files it and shows the appeal. A refusal is shown on the
    form; a conflict is first offered to `on_conflict`, which may answer with another page."""
    form = AppealForm(request.POST)
    if form.is_valid() and form.cleaned_data["action"] == "suggest":
        form = _suggest_into(form, defect)
    elif form.is_valid():
        try:
            filed = _filed(request, viewer, form, defect, appeal)
        except Conflict as exc:
            answer = on_conflict(exc, form)
            if answer is not None:
                return answer
            form.refusal_show(exc)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            form.refusal_show(exc)
        else:
            return redirect("appeal", filed.pk)
    context = _form_context(viewer, defect, form, appeal)
    return render(request, "web/appeal_form.html", context)


def _filed(
    request: HttpRequest, viewer: Viewer, form: AppealForm, defect: Defect, appeal: Appeal | None
) -> Appeal:
    """File the form through the one action (all of it or none) and say what was done: on the
    draft when there is one, else as a new appeal of the defect."""
    submit = form.cleaned_data["action"] == "submit"
    filed = appeal_file(
        actor=viewer.principal,
        defect=defect.pk if appeal is None else None,
        appeal=appeal.pk if appeal is not None else None,
        reason=form.cleaned_data["reason"],
        explanation=form.cleaned_data["explanation"],
        uploads=_uploads(request),
        submit=submit,
    )
    if submit:
        messages.success(request, _("Your appeal was submitted."))
    else:
        messages.success(request, _("Your draft was saved."))
    return filed


def _draft_post(request: HttpRequest, viewer: Viewer, appeal: Appeal) -> HttpResponse:
    def shown_instead(exc: Conflict, form: AppealForm) -> HttpResponse | None:
        """A draft submitted, withdrawn or decided elsewhere: its state, with the text typed."""
        current = appeal_for(viewer.principal, appeal.pk)
        if current.status == Status.DRAFT:
            return None
        messages.warning(
            request,
            _(
                "This appeal was already %(state)s elsewhere (another tab or a "
                "colleague), so this form was not applied. Its current state is below."
            )
            % {"state": current.get_status_display().lower()},
        )
        return _status_page(request, viewer, current, stale_text=form.text("explanation"))

    return _appeal_form_post(request, viewer, appeal.defect, appeal, shown_instead)


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


def _appeal_in_view(request: HttpRequest, appeal_id: int) -> tuple[Viewer, Appeal]:
    """The appeal the user may see, and the user looking at its seller and marketplace."""
    viewer = viewer_for(request)
    appeal = appeal_for(viewer.principal, appeal_id)
    return viewer_at(viewer, appeal.seller, appeal.marketplace), appeal


@_kept_on_expiry
@page
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    viewer, appeal = _appeal_in_view(request, appeal_id)
    editable = appeal.status == Status.DRAFT and viewer.may_write
    if request.method == "POST":
        if not viewer.may_write:
            raise Forbidden(_("Read-only access: you may view this appeal but not change it."))
        return _draft_post(request, viewer, appeal)
    kept = _kept_text(request)
    if editable:
        form = AppealForm(
            initial={
                "reason": kept.get("reason") or appeal.reason,
                "explanation": kept.get("explanation") or appeal.explanation,
            }
        )
        return render(
            request, "web/appeal_form.html", _form_context(viewer, appeal.defect, form, appeal)
        )
    return _status_page(request, viewer, appeal, reply_text=kept.get("message", ""))


@require_POST
@_kept_on_expiry
@page
def appeal_reply_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    viewer, appeal = _appeal_in_view(request, appeal_id)
    form = AppealReplyForm(request.POST)
    text = str(form.data.get("message", ""))
    uploads = _uploads(request)
    refused = form.error_lists()  # text that cannot be a message (a NUL character)
    if not refused:
        try:
            appeal_reply(
                actor=viewer.principal,
                appeal=appeal,
                message=form.cleaned_data["message"],
                uploads=uploads,
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            refused = _errors(exc)
    if refused:
        current = appeal_for(viewer.principal, appeal_id)
        return _status_page(request, viewer, current, reply_text=text, reply_errors=refused)
    messages.success(request, _("Your reply was sent; the appeal is back in review."))
    return redirect("appeal", appeal.pk)


@page
def appeal_withdraw_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    viewer = viewer_for(request)
    appeal = appeal_for(viewer.principal, appeal_id)
    if request.method != "POST" or not ConfirmForm(request.POST).confirmed:
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
    form = AppealListForm(request.GET)
    tab = form.tab_of(TABS)
    page_number = form.page_number

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


def _appeal_list_context(viewer: Viewer, tab: str, page_number: int | None) -> dict[str, Any]:
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
