"""Reviewer pages: the queue, one appeal with every fact, the decisions, statistics.

Thin views: reads go through selectors, every change through the appeal actions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import filetype
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from defectdesk.appeals.actions import appeal_assign, appeal_decide, appeal_request_info
from defectdesk.appeals.evidence import evidence_build
from defectdesk.appeals.filestore import evidence_read
from defectdesk.appeals.models import Appeal
from defectdesk.appeals.policy import appeal_rules_for
from defectdesk.appeals.reasons import CATALOGUE, reason_lookup
from defectdesk.appeals.selectors import (
    appeal_file_for,
    appeal_for,
    appeal_history,
    order_state_of,
)
from defectdesk.appeals.transitions import (
    DECIDED_STATUSES,
    FINAL_STATUSES,
    REVIEW_STATUSES,
    Status,
)
from defectdesk.appeals.uploads import served_file_guard
from defectdesk.console.access import console_principal, reviewer_page
from defectdesk.console.access import see_other as _see_other
from defectdesk.console.explain import (
    DENIAL_LABELS,
    DENIAL_REASONS,
    defect_reason,
)
from defectdesk.console.forms import (
    STATS_DAYS,
    AssignForm,
    DecisionForm,
    FileForm,
    QueueFilterForm,
    RequestInfoForm,
    StatsForm,
)
from defectdesk.console.health import sellers_health
from defectdesk.console.queue import (
    queue_appeals,
    queue_counts,
    queue_page,
    queue_rows,
    reviewers,
    time_left,
)
from defectdesk.console.queuetable import queue_rows_html
from defectdesk.console.stats import decision_rows, reason_label, review_stats
from defectdesk.core.errors import (
    DomainError,
    NotFound,
    Unavailable,
)
from defectdesk.core.language import in_sentence
from defectdesk.defects.models import Defect
from defectdesk.policy.metrics import metric_label
from defectdesk.policy.selectors import policy_for

PAGE_SIZE = 25
REVIEW_NAV = {"section": "review", "active": "review"}
# Served inline only when the stored bytes really are one of these images.
INLINE_IMAGES = {"image/png", "image/jpeg", "image/webp", "image/gif"}


APPEAL_CACHE_SECONDS = 3600


def _errors(exc: DomainError) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors}


def _appeal_or_404(request: HttpRequest, appeal_id: int) -> Appeal:
    try:
        return appeal_for(console_principal(request), appeal_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


def _back(target: str, request: HttpRequest, default: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# -- the queue -----------------------------------------------------------------------------


@reviewer_page
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    principal = console_principal(request)
    now = timezone.now()
    me = request.user if request.user.is_authenticated else None
    form = QueueFilterForm(request.GET)
    filters = form.filters()
    errors = form.refused
    status = 422 if errors else 200
    counts = queue_counts(principal, now, me)  # type: ignore[arg-type]
    appeals = queue_appeals(principal, filters, now, me)  # type: ignore[arg-type]
    unfiltered = not filters.as_query()
    page, shown = queue_page(
        appeals, form.page_number, PAGE_SIZE, counts["open"] if unfiltered else None
    )
    rows = queue_rows(shown, now)
    context = {
        "page": page,
        "rows": rows,
        "rows_html": queue_rows_html(
            rows,
            csrf_token=get_token(request),
            me=request.user.get_username(),
            user_id=request.user.pk,
            is_reviewer=principal.is_reviewer,
        ),
        "user_id": request.user.pk,
        "filters": filters,
        "query": filters.as_query(),
        "errors": errors,
        "counts": counts,
        "statuses": [
            (s, str(Status(s).label)) for s in ("submitted", "in_review", "info_requested")
        ],
        "kinds": Defect.Kind.choices,
        # Worded once each, then sorted (a lazy label would be translated at every comparison).
        "reasons": sorted(
            {(r.code, str(r.label)) for reasons in CATALOGUE.values() for r in reasons},
            key=lambda item: item[1],
        ),
        "reviewers": reviewers(),
        "is_reviewer": principal.is_reviewer,
        "me": request.user.get_username(),
        # Translated once, not once per row.
        "at_risk_label": _("At risk"),
        "healthy_label": _("Healthy"),
        "approve_label": _("Approve"),
        "nobody_label": _("Nobody"),
        "assign_label": _("Assign to me"),
        **REVIEW_NAV,
        "tab": "queue",
    }
    return render(request, "console/queue.html", context, status=status)


# -- one appeal ----------------------------------------------------------------------------


def _health_numbers(appeal: Appeal, health: Any) -> list[dict[str, Any]]:
    """Each metric's numerator and denominator, linked to the lists of orders behind them."""
    query = {"seller": appeal.seller.external_id, "marketplace": appeal.marketplace.code}
    out = []
    for name, rate, num, den in health.numbers if health else ():
        base = reverse("metric_list", args=[name])
        out.append(
            {
                "label": metric_label(name),
                "rate": rate,
                "numerator": num,
                "denominator": den,
                "numerator_url": f"{base}?{urlencode({'part': 'numerator', **query})}",
                "denominator_url": f"{base}?{urlencode({'part': 'denominator', **query})}",
            }
        )
    return out


def _appeal_facts(appeal: Appeal, policy: Any) -> dict[str, Any]:
    """What the page shows about the appeal, its defect, order and seller (no forms)."""
    now = timezone.now()
    defect = appeal.defect
    order = defect.order
    state, events = order_state_of(defect)
    live = evidence_build(state, events)
    pair = (appeal.seller_id, appeal.marketplace_id)
    health = sellers_health([pair])[pair]
    # Only what the lists show: not the explanations and frozen evidence of other appeals.
    earlier = list(
        Appeal.objects.filter(defect_id=defect.pk)
        .exclude(pk=appeal.pk)
        .only("pk", "status", "decision_note", "created_at")
        .order_by("created_at")
    )
    recent = list(
        Appeal.objects.filter(seller_id=appeal.seller_id, status__in=sorted(DECIDED_STATUSES))
        .exclude(pk=appeal.pk)
        .only("pk", "status", "decided_at", "defect_kind")
        .order_by("-decided_at", "-id")[:10]
    )
    since = now - timedelta(days=90)
    outcomes = Appeal.objects.filter(seller_id=appeal.seller_id, decided_at__gte=since).aggregate(
        approved=Count("id", filter=Q(status=Status.APPROVED)),
        denied=Count("id", filter=Q(status=Status.DENIED)),
    )
    files = list(appeal.files.all())
    for item in files:
        item.preview = "image" if item.content_type in INLINE_IMAGES else "download"  # type: ignore[attr-defined]
    return {
        "appeal": appeal,
        "defect": defect,
        "order": order,
        "why": defect_reason(defect, order.order_date, policy),
        "reason": reason_lookup(defect.kind, appeal.reason),
        "timeline": live["timeline"],
        "evidence": appeal.system_evidence or {},
        "files": files,
        "messages_": list(appeal.messages.all()),
        "earlier": earlier,
        "recent": recent,
        "outcomes": outcomes,
        "health": health,
        "health_numbers": _health_numbers(appeal, health),
        "recommendations": [r for r in (appeal.recommendations or []) if isinstance(r, dict)],
        "history": list(appeal_history(appeal)),
    }


def _appeal_context(request: HttpRequest, appeal: Appeal) -> dict[str, Any]:
    principal = console_principal(request)
    now = timezone.now()
    defect = appeal.defect
    policy = policy_for(appeal.marketplace_id)
    rules = appeal_rules_for(appeal.marketplace_id)
    deadline = (
        appeal.info_due_at if appeal.status == Status.INFO_REQUESTED else appeal.review_due_at
    )
    return {
        "appeal": appeal,
        "defect": defect,
        "order": defect.order,
        # The facts column and the seller column, rendered once per version of the seller's
        # data (every change to an appeal is audited, every event is the seller's): the facts
        # are gathered only when the fragments are not kept (appeal.html, `shown_cached`).
        "facts": SimpleLazyObject(lambda: _appeal_facts(appeal, policy)),
        "cache_seconds": APPEAL_CACHE_SECONDS,
        "left": time_left(deadline, now),
        "deadline": deadline,
        "info_hours": rules.info_hours,
        "note_required": rules.approval_note_required,
        "info_due_if_asked": now + rules.info_period,
        "denial_reasons": DENIAL_REASONS,
        "reviewers": reviewers(),
        # A draft is the merchant's until submitted; decided and withdrawn ones are closed.
        "can_act": principal.is_reviewer and appeal.status in REVIEW_STATUSES,
        "is_reviewer": principal.is_reviewer,
        "is_final": appeal.status in FINAL_STATUSES,
        **REVIEW_NAV,
        "tab": "queue",
        "form": {},
        "errors": {},
    }


@reviewer_page
@require_GET
def appeal_page(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal_or_404(request, appeal_id)
    return render(request, "console/appeal.html", _appeal_context(request, appeal))


def _local_minute(moment: datetime | None) -> str:
    """A moment to the minute in the viewer's zone, with the zone's name; "" when there is none."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def _changed_meanwhile(request: HttpRequest, appeal: Appeal, seen: str) -> bool:
    """Refuse a form filled in against a state that has changed since; say who changed it."""
    if not seen or seen == appeal.status:
        return False
    last = appeal_history(appeal).last()
    who = last.actor_label if last is not None else _("someone else")
    when = _local_minute(last.occurred_at if last is not None else None)
    messages.error(
        request,
        _(
            "While you were reading, %(who)s changed this appeal (%(when)s): it is now "
            "%(status)s. Nothing was changed by your form; review the appeal again."
        )
        % {"who": who, "when": when, "status": in_sentence(Status(appeal.status).label)},
    )
    return True


def _refused(
    request: HttpRequest, appeal: Appeal, exc: DomainError, form: dict[str, str]
) -> HttpResponse:
    if exc.status == 409:
        # A decision or change made meanwhile: report it plainly; nothing was overwritten.
        messages.error(request, f"{exc.detail} " + _("Nothing was changed by your form."))
        return _see_other(reverse("review_appeal", args=[appeal.pk]))
    fresh = _appeal_or_404(request, appeal.pk)
    context = _appeal_context(request, fresh)
    context.update(form=form, errors=_errors(exc), error_detail=exc.detail)
    return render(request, "console/appeal.html", context, status=exc.status)


@reviewer_page
@require_POST
def appeal_decide_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal_or_404(request, appeal_id)
    page = reverse("review_appeal", args=[appeal.pk])
    form = DecisionForm(request.POST)
    typed = form.typed("decision", "note", "deny_reason")
    decision = typed["decision"]
    try:
        if not form.is_valid():
            raise form.refusal(
                _("The denial was not recorded.")
                if decision == "deny"
                else _("The decision was not recorded.")
            )
        note = form.cleaned_data["note"]
        if decision == "deny":
            # The note goes to the merchant in the marketplace's language, as the rest of it.
            with translation.override(appeal.marketplace.default_language or "en"):
                note = f"{DENIAL_LABELS[form.cleaned_data['deny_reason']]}. {note}"
        appeal_decide(
            actor=console_principal(request),
            appeal=appeal,
            decision=decision,
            note=note,
            seen=form.cleaned_data["seen"],
        )
    except DomainError as exc:
        return _refused(request, appeal, exc, typed)
    done_text = (
        _("Appeal %(id)s approved.") if decision == "approve" else _("Appeal %(id)s denied.")
    )
    messages.success(request, done_text % {"id": appeal.pk})
    return _see_other(page)


@reviewer_page
@require_POST
def appeal_request_info_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal_or_404(request, appeal_id)
    page = reverse("review_appeal", args=[appeal.pk])
    form = RequestInfoForm(request.POST)
    if _changed_meanwhile(request, appeal, form.typed("seen")["seen"]):
        return _see_other(page)
    question = str(form.data.get("question", ""))
    try:
        if not form.is_valid():
            raise form.refusal(_("The question was not sent."))
        done = appeal_request_info(
            actor=console_principal(request), appeal=appeal, question=form.cleaned_data["question"]
        )
    except DomainError as exc:
        return _refused(request, appeal, exc, {"question": question})
    due = _local_minute(done.info_due_at)
    messages.success(
        request,
        _("Information requested; the merchant has until %(due)s to answer.") % {"due": due},
    )
    return _see_other(page)


@reviewer_page
@require_POST
def appeal_assign_view(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = _appeal_or_404(request, appeal_id)
    form = AssignForm(request.POST)
    back = _back(form.value("next", ""), request, reverse("review_appeal", args=[appeal.pk]))
    reviewer: str = form.value("reviewer", "")
    try:
        if not form.is_valid():
            raise form.refusal(_("The appeal was not assigned."))
        done = appeal_assign(actor=console_principal(request), appeal=appeal, reviewer=reviewer)
    except DomainError as exc:
        detail = "; ".join(e.message for e in exc.errors) or exc.detail
        messages.error(
            request,
            _("Appeal %(id)s was not assigned: %(detail)s.") % {"id": appeal.pk, "detail": detail},
        )
        return _see_other(back)
    who = done.assigned_to.get_username() if done.assigned_to else reviewer
    mine = who == request.user.get_username()
    messages.success(
        request,
        _("Appeal %(id)s is now yours.") % {"id": appeal.pk}
        if mine
        else _("Appeal %(id)s assigned to %(who)s.") % {"id": appeal.pk, "who": who},
    )
    return _see_other(back)


@reviewer_page
@require_GET
def appeal_file(request: HttpRequest, appeal_id: int, file_id: int) -> HttpResponse:
    """A merchant's file: an image inline only when its bytes are one; anything else downloads."""
    try:
        item = appeal_file_for(console_principal(request), appeal_id, file_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    try:
        content = evidence_read(item.storage_name)
    except Unavailable as exc:
        back = reverse("review_appeal", args=[appeal_id])
        response = render(request, "503.html", {"message": exc.detail, "back": back}, status=503)
        response["Retry-After"] = "60"
        return response
    sniffed = filetype.guess_mime(content)
    inline = sniffed in INLINE_IMAGES and not FileForm(request.GET).wanted
    if inline:
        response = HttpResponse(content, content_type=sniffed)
    else:
        kind = sniffed if sniffed == "application/pdf" else "application/octet-stream"
        response = HttpResponse(content, content_type=kind)
    # The name as the merchant gave it: ASCII as filename="...", anything else (Chinese) as
    # RFC 5987's filename*=utf-8''... ; quotes, backslashes and controls are dropped.
    safe = "".join(c for c in item.original_name if c.isprintable() and c not in '"\\') or "file"
    response["Content-Disposition"] = content_disposition_header(not inline, safe) or "inline"
    served_file_guard(response)
    return response


# -- statistics ----------------------------------------------------------------------------


@reviewer_page
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    form = StatsForm(request.GET)
    errors = form.error_map()
    status = 422 if errors else 200
    days: int = form.value("days", STATS_DAYS)
    now = timezone.now()
    tz = timezone.get_current_timezone()
    last = timezone.localdate(now)
    first = last - timedelta(days=days - 1)
    rows = decision_rows(now - timedelta(days=days + 1), now + timedelta(seconds=1))
    result = review_stats(rows, first, last, tz)  # type: ignore[arg-type]
    open_breaches = Appeal.objects.filter(
        status__in=[Status.SUBMITTED, Status.IN_REVIEW], review_due_at__lt=now
    ).count()
    context = {
        "stats": result,
        "days": days,
        "errors": errors,
        "open_breaches": open_breaches,
        "reason_label": reason_label,
        "by_reason": [
            (kind, code, reason_label(kind, code), tally)
            for (kind, code), tally in result.by_reason.items()
        ],
        **REVIEW_NAV,
        "tab": "stats",
        "max_day": max((n for _, n, _ in result.per_day), default=0) or 1,
    }
    return render(request, "console/stats.html", context, status=status)
