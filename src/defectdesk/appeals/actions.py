"""Every state change of an appeal: one action per transition, each writing its audit event.

Each action checks permission and the transitions table, locks the appeal row
(`select_for_update`, so concurrent requests queue and the loser gets 409), writes the
change, its audit event and its notifications in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from defectdesk.accounts.models import StaffRole
from defectdesk.accounts.roles import Principal
from defectdesk.appeals.evidence import evidence_build, rules_evaluate
from defectdesk.appeals.filestore import (
    evidence_final_name,
    evidence_promote_on_commit,
    evidence_stage,
    evidence_unstage,
)
from defectdesk.appeals.models import Appeal, AppealFile, AppealMessage
from defectdesk.appeals.policy import appeal_rules_for
from defectdesk.appeals.reasons import reason_lookup, reasons_for
from defectdesk.appeals.rules_policy import AppealRules
from defectdesk.appeals.selectors import (
    Who,
    appeal_history,
    appealable_until,
    defect_for_appeal,
    order_state_of,
    principal_of,
)
from defectdesk.appeals.transitions import (
    DECIDED_STATUSES,
    OPEN_STATUSES,
    Status,
    transition_check,
)
from defectdesk.appeals.uploads import CheckedFile, upload_check
from defectdesk.core.actors import SYSTEM, Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from defectdesk.core.language import deferred, in_sentence
from defectdesk.core.timeutil import local_text, zone
from defectdesk.defects.models import Defect
from defectdesk.notify.actions import notify_users, reviewer_user_ids, seller_user_ids
from defectdesk.webhooks.outbox import webhook_emit

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
Upload = tuple[str, bytes]
DRAFT_FILES_ONLY = gettext_lazy(
    "Files can be added to a draft only; to answer an information request, attach them to "
    "your reply."
)


# What _text names in its refusals.
WHAT = {
    "explanation": gettext_lazy("explanation"),
    "reply": gettext_lazy("reply"),
    "question": gettext_lazy("question"),
    "note": gettext_lazy("note"),
}


# -- helpers -------------------------------------------------------------------------------


def _replied_subject(pk: int) -> str:
    return _("Appeal %(id)s: the merchant replied") % {"id": pk}


def _replied_body(pk: int, text: str) -> str:
    return _("The merchant answered your question on appeal %(id)s.") % {"id": pk} + f"\n\n{text}"


def _assigned_subject(pk: int) -> str:
    return _("Appeal %(id)s assigned to you") % {"id": pk}


def _assigned_body(appeal: Appeal) -> str:
    return _(
        "Appeal %(id)s of %(what)s is yours to review; a decision is expected by %(when)s UTC."
    ) % {
        "id": appeal.pk,
        "what": _describe(appeal),
        "when": f"{appeal.review_due_at:%Y-%m-%d %H:%M}",
    }


def _overdue_subject(pk: int) -> str:
    return _("Appeal %(id)s is past its review deadline") % {"id": pk}


def _overdue_body(appeal: Appeal) -> str:
    return _("Appeal %(id)s of %(what)s was due for a decision by %(when)s UTC.") % {
        "id": appeal.pk,
        "what": _describe(appeal),
        "when": f"{appeal.review_due_at:%Y-%m-%d %H:%M}",
    }


def actor_of(principal: Principal) -> Actor:
    """The audit actor behind a principal: its user and, for API calls, its token."""
    user = (
        principal.user if principal.user is not None and principal.user.is_authenticated else None
    )
    return Actor(user=user, token_id=principal.token.pk if principal.token else None)


def _user_id(actor: Actor) -> int | None:
    user = actor.user
    return user.pk if user is not None and user.is_authenticated else None


def writer_check(principal: Principal, appeal_or_seller: Appeal | int) -> None:
    """Refuse (403, saying why) anyone who may see but not file or change the seller's appeals."""
    seller_id = (
        appeal_or_seller if isinstance(appeal_or_seller, int) else appeal_or_seller.seller_id
    )
    if not principal.may_read_seller(seller_id):
        raise NotFound(_("Appeal not found."))
    if not principal.may_write_seller(seller_id):
        if principal.seller_roles.get(seller_id):
            raise Forbidden(
                _(
                    "Read-only access: you may view this seller's appeals but not file or "
                    "change them."
                )
            )
        raise Forbidden(_("Only the seller's owner or staff may file and change appeals."))


def _require_reviewer(principal: Principal, appeal: Appeal) -> None:
    if not principal.may_read_seller(appeal.seller_id):
        raise NotFound(_("Appeal %(id)s not found.") % {"id": appeal.pk})
    if not principal.is_reviewer:
        # Reviewer actions do not exist for merchants, not even on their own appeals.
        raise NotFound(_("Appeal %(id)s not found.") % {"id": appeal.pk})


def _text(value: Any, field: str, *, low: int, high: int, what: str) -> str:
    """Plain text of `low` to `high` characters (Unicode code points, not bytes)."""
    invalid = _("The %(what)s is not valid.") % {"what": WHAT.get(what, what)}
    if not isinstance(value, str):
        raise ValidationFailed(invalid, [FieldError(field, _("must be text"))])
    text = value.replace("\r\n", "\n").strip()
    errors = []
    if _CONTROL.search(text):
        errors.append(FieldError(field, _("must be plain text without control characters")))
    elif len(text) < low:
        errors.append(
            FieldError(
                field,
                _("is %(n)s characters long; write at least %(low)s")
                % {"n": len(text), "low": low},
            )
        )
    elif len(text) > high:
        errors.append(
            FieldError(
                field,
                _("is %(n)s characters long; the limit is %(high)s")
                % {"n": f"{len(text):,}", "high": f"{high:,}"},
            )
        )
    if errors:
        raise ValidationFailed(invalid, errors)
    return text


def _explanation(value: Any, rules: AppealRules) -> str:
    return _text(
        value,
        "explanation",
        low=rules.explanation_min,
        high=rules.explanation_max,
        what="explanation",
    )


def _reason(defect: Defect, code: Any) -> str:
    if not isinstance(code, str) or reason_lookup(defect.kind, code) is None:
        choices = ", ".join(r.code for r in reasons_for(defect.kind))
        raise ValidationFailed(
            _("The reason is not valid."),
            [
                FieldError(
                    "reason",
                    _("%(code)r is not a reason for a %(kind)s defect; choose one of %(choices)s")
                    % {"code": code, "kind": defect.kind, "choices": choices},
                )
            ],
        )
    return code


def _window_check(defect: Defect, now: datetime) -> None:
    closes = appealable_until(defect)
    if closes is None:
        raise Conflict(
            _("This defect was already removed; there is nothing to appeal."),
            [FieldError("defect", _("is not active"))],
        )
    tz = zone(defect.marketplace.timezone)
    if defect.opened_at >= now:
        raise Conflict(
            _(
                "This defect opens only on %(when)s (its deadline has not passed yet); there "
                "is nothing to appeal before then."
            )
            % {"when": local_text(defect.opened_at, tz)},
            [FieldError("defect", _("has not opened yet"))],
        )
    if now > closes:
        raise ValidationFailed(
            _("The filing window for this defect closed on %(when)s.")
            % {"when": local_text(closes, tz)},
            [
                FieldError(
                    "defect",
                    _("the filing window closed on %(when)s") % {"when": closes.isoformat()},
                )
            ],
        )


def _earlier_submitted(defect: Defect, exclude: int | None = None) -> list[Appeal]:
    qs = Appeal.objects.filter(defect=defect, submitted_at__isnull=False)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs.order_by("submitted_at", "id"))


def _appeal_count_check(defect: Defect, rules: AppealRules, exclude: int | None = None) -> None:
    used = len(_earlier_submitted(defect, exclude))
    if used >= rules.max_appeals_per_defect:
        raise Conflict(
            _(
                "This defect was already appealed %(used)s times; at most %(max)s appeals are "
                "allowed per defect."
            )
            % {"used": used, "max": rules.max_appeals_per_defect}
        )


def _locked(appeal: Appeal | int) -> Appeal:
    pk = appeal if isinstance(appeal, int) else appeal.pk
    found = Appeal.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Appeal %(id)s not found.") % {"id": pk})
    return found


def _fresh(appeal: Appeal | int) -> Appeal:
    """The appeal as the database holds it now (callers may hold a stale copy)."""
    pk = appeal if isinstance(appeal, int) else appeal.pk
    found = Appeal.objects.select_related("defect", "defect__order").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Appeal %(id)s not found.") % {"id": pk})
    return found


def _seller_link(appeal: Appeal) -> str:
    return reverse("appeal", args=[appeal.pk])


def _review_link(appeal: Appeal) -> str:
    return reverse("review_appeal", args=[appeal.pk])


def _notify_seller(
    appeal: Appeal, subject: str | Promise, body: str | Promise, actor: Actor
) -> None:
    notify_users(
        language=appeal.marketplace.default_language,
        user_ids=seller_user_ids(appeal.seller_id),
        subject=subject,
        body=body,
        link=_seller_link(appeal),
        object_type="appeal",
        object_id=appeal.pk,
        actor_id=_user_id(actor),
    )


def _notify_reviewers(
    appeal: Appeal,
    user_ids: Sequence[int],
    subject: str | Promise,
    body: str | Promise,
    actor: Actor,
) -> None:
    notify_users(
        language=appeal.marketplace.default_language,
        user_ids=user_ids,
        subject=subject,
        body=body,
        link=_review_link(appeal),
        object_type="appeal",
        object_id=appeal.pk,
        actor_id=_user_id(actor),
    )


def _describe(appeal: Appeal) -> str:
    defect = appeal.defect
    return _("the %(kind)s on order %(order)s") % {
        "kind": in_sentence(defect.get_kind_display()),
        "order": defect.order.order_ref,
    }


def _deadline_sentence(appeal: Appeal, target: str) -> str:
    """The merchant's next deadline, in the marketplace's zone with the zone named."""
    tz = zone(appeal.marketplace.timezone)
    if target == Status.INFO_REQUESTED and appeal.info_due_at is not None:
        return "\n\n" + _(
            "Please answer by %(when)s; otherwise the appeal is denied as expired."
        ) % {"when": local_text(appeal.info_due_at, tz)}
    if target == Status.SUBMITTED and appeal.review_due_at is not None:
        return "\n\n" + _("A decision is expected by %(when)s.") % {
            "when": local_text(appeal.review_due_at, tz)
        }
    return ""


WEBHOOK_TYPES = {
    Status.SUBMITTED: "appeal.submitted",
    Status.INFO_REQUESTED: "appeal.info_requested",
    Status.APPROVED: "appeal.decided",
    Status.DENIED: "appeal.decided",
}


def _announce(appeal: Appeal, target: str, note: str) -> None:
    """Tell the marketplace's webhook endpoints (outbox rows in this transaction)."""
    type_ = WEBHOOK_TYPES.get(Status(target))
    if type_ is None:
        return
    data: dict[str, Any] = {
        "appeal": appeal.pk,
        "defect": appeal.defect_id,
        "kind": appeal.defect_kind,
        "seller": appeal.seller.external_id,
        "marketplace": appeal.marketplace.code,
        "order": appeal.defect.order.order_ref,
        "status": target,
        "reason": appeal.reason,
    }
    if type_ == "appeal.info_requested":
        data["question"] = note
        data["answer_by"] = appeal.info_due_at.isoformat() if appeal.info_due_at else None
    elif type_ == "appeal.decided":
        data["decision"] = "approved" if target == Status.APPROVED else "denied"
        data["cause"] = appeal.decision_cause
        data["note"] = note
    webhook_emit(type_, data, seller_id=appeal.seller_id)


def _move(
    appeal: Appeal,
    target: str,
    *,
    actor: Actor,
    action: str,
    verb: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    """Apply one transition of the table: save the row, write its audit event, notify."""
    transition_check(appeal.status, target, verb=verb)
    before = appeal.status
    appeal.status = target
    appeal.updated_at = now
    appeal.save()
    _recorded(appeal, actor, action, before=before, note=note, data=data)
    _announce(appeal, target, note)
    _notify_seller(
        appeal,
        deferred(_moved_subject, appeal, target),
        deferred(_moved_body, appeal, target, note),
        actor,
    )


def _recorded(
    appeal: Appeal,
    actor: Actor,
    action: str,
    *,
    before: str | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Write the appeal's audit event `appeal.<action>`, from the state `before` (by default its
    state, unchanged) to its state now."""
    audit_record(
        actor=actor,
        action=f"appeal.{action}",
        object_type="appeal",
        object_id=appeal.pk,
        seller_id=appeal.seller_id,
        from_state=appeal.status if before is None else before,
        to_state=appeal.status,
        note=note,
        data=data,
    )


def _moved_subject(appeal: Appeal, target: str) -> str:
    label = in_sentence(Status(target).label)
    return _("Appeal %(id)s: %(status)s") % {"id": appeal.pk, "status": label}


def _moved_body(appeal: Appeal, target: str, note: str) -> str:
    label = in_sentence(Status(target).label)
    body = _("Your appeal %(id)s of %(what)s is now %(status)s.") % {
        "id": appeal.pk,
        "what": _describe(appeal),
        "status": label,
    }
    if note:
        body += f"\n\n{note}"
    return body + _deadline_sentence(appeal, target)


def _count_check(appeal: Appeal, adding: int, rules: AppealRules, field: str = "file") -> None:
    have = AppealFile.objects.filter(appeal=appeal).count()
    if have + adding > rules.max_files:
        message = _("an appeal may have at most %(max)s files; %(have)s already attached") % {
            "max": rules.max_files,
            "have": have,
        }
        raise ValidationFailed(_("Too many files."), [FieldError(field, message)])


def _files_check(
    appeal: Appeal, uploads: Sequence[Upload], rules: AppealRules, field: str = "file"
) -> list[CheckedFile]:
    _count_check(appeal, len(uploads), rules, field)
    return [upload_check(name, content, rules, field) for name, content in uploads]


def _file_rows(
    appeal: Appeal,
    checked: Sequence[CheckedFile],
    staged: Sequence[str],
    actor: Actor,
    now: datetime,
    reply: AppealMessage | None = None,
) -> list[AppealFile]:
    """Rows naming the files' final places; the staged files move there when the transaction
    commits."""
    moves = [
        (name, evidence_final_name(name, seller_id=appeal.seller_id, appeal_id=appeal.pk))
        for name in staged
    ]
    rows = AppealFile.objects.bulk_create(
        [
            AppealFile(
                appeal=appeal,
                reply=reply,
                original_name=item.name,
                storage_name=final,
                content_type=item.content_type,
                size=item.size,
                sha256=item.sha256,
                uploaded_by_label=actor.label,
                uploaded_at=now,
            )
            for item, (_staged, final) in zip(checked, moves, strict=True)
        ]
    )
    evidence_promote_on_commit(moves)
    return rows


def _own_transaction_check() -> None:
    """Refuse to run inside a caller's transaction (RuntimeError): an action that stages files
    must see its own commit or rollback, to promote the files or delete them."""
    with transaction.atomic(durable=True):
        pass


# -- merchant actions ----------------------------------------------------------------------


def _defect_to_appeal(principal: Principal, defect: Defect | int) -> Defect:
    """The defect a new appeal is about, if this principal may file one (404/403/409 if not)."""
    defect_id = defect if isinstance(defect, int) else defect.pk
    found = defect_for_appeal(principal, defect_id)
    writer_check(principal, found.seller_id)
    if found.marketplace.external:
        # Mirror mode: the external marketplace decides; requests are prepared for its forms.
        raise Conflict(
            f"Marketplace {found.marketplace.code} is decided by {found.marketplace.decided_by}: "
            "prepare a request for it on the Amazon page instead of an appeal here.",
            [FieldError("defect", "is on an external marketplace")],
        )
    return found


def _create(
    found: Defect, code: str, text: str, rules: AppealRules, who: Actor, now: datetime
) -> Appeal:
    """Start the draft, in the caller's transaction."""
    current = Defect.objects.select_for_update().get(pk=found.pk)
    _window_check(current, now)
    _appeal_count_check(current, rules)
    open_one = Appeal.objects.filter(defect=current, status__in=sorted(OPEN_STATUSES)).first()
    if open_one is not None:
        raise Conflict(
            _("This defect already has an open appeal (%(id)s); edit or withdraw it instead.")
            % {"id": open_one.pk},
            [FieldError("defect", _("has an open appeal"))],
        )
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                defect=current,
                defect_kind=current.kind,
                seller_id=current.seller_id,
                marketplace_id=current.marketplace_id,
                status=Status.DRAFT,
                reason=code,
                explanation=text,
                created_by_id=_user_id(who),
                created_at=now,
                updated_at=now,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("This defect already has an open appeal."),
            [FieldError("defect", _("has an open appeal"))],
        ) from exc
    _recorded(appeal, who, "create", before="", data={"defect": current.pk, "reason": code})
    return appeal


def appeal_create(*, actor: Who, defect: Defect | int, reason: Any, explanation: Any) -> Appeal:
    """Start a draft appeal of one defect."""
    principal = principal_of(actor)
    found = _defect_to_appeal(principal, defect)
    rules = appeal_rules_for(found.marketplace_id)
    code = _reason(found, reason)
    text = _explanation(explanation, rules)
    with transaction.atomic():
        return _create(found, code, text, rules, actor_of(principal), timezone.now())


def _update(principal: Principal, locked: Appeal, reason: Any, explanation: Any) -> None:
    """Edit a locked draft, in the caller's transaction."""
    if locked.status != Status.DRAFT:
        raise Conflict(
            _("Only a draft can be edited; this appeal is %(status)s.")
            % {"status": in_sentence(Status(locked.status).label)}
        )
    rules = appeal_rules_for(locked.marketplace_id)
    changed: dict[str, Any] = {}
    if reason is not None:
        locked.reason = _reason(locked.defect, reason)
        changed["reason"] = locked.reason
    if explanation is not None:
        locked.explanation = _explanation(explanation, rules)
        changed["explanation"] = True
    if not changed:
        raise ValidationFailed(
            _("Nothing to change."), [FieldError("body", _("give a reason or an explanation"))]
        )
    locked.updated_at = timezone.now()
    locked.save(update_fields=["reason", "explanation", "updated_at"])
    _recorded(locked, actor_of(principal), "update", data=changed)


def appeal_update(
    *, actor: Who, appeal: Appeal | int, reason: Any = None, explanation: Any = None
) -> Appeal:
    """Edit a draft's reason or explanation."""
    principal = principal_of(actor)
    with transaction.atomic():
        locked = _locked(appeal)
        writer_check(principal, locked)
        _update(principal, locked, reason, explanation)
    return locked


def _attach(
    locked: Appeal,
    checked: Sequence[CheckedFile],
    staged: Sequence[str],
    rules: AppealRules,
    who: Actor,
) -> list[AppealFile]:
    """Add staged files to a locked draft, in the caller's transaction."""
    if locked.status != Status.DRAFT:
        raise Conflict(str(DRAFT_FILES_ONLY))
    _count_check(locked, len(checked), rules)
    rows = _file_rows(locked, checked, staged, who, timezone.now())
    _recorded(locked, who, "attach", data={"files": [c.name for c in checked]})
    return rows


def appeal_attach(
    *, actor: Who, appeal: Appeal | int, uploads: Sequence[Upload]
) -> list[AppealFile]:
    """Add supporting files to a draft (all of them or none)."""
    principal = principal_of(actor)
    current = _fresh(appeal)
    writer_check(principal, current)
    if not uploads:
        raise ValidationFailed(_("No file was sent."), [FieldError("file", _("is required"))])
    if current.status != Status.DRAFT:
        raise Conflict(str(DRAFT_FILES_ONLY))
    rules = appeal_rules_for(current.marketplace_id)
    checked = _files_check(current, uploads, rules)
    _own_transaction_check()
    staged = evidence_stage(checked)
    try:
        with transaction.atomic(durable=True):
            rows = _attach(_locked(current), checked, staged, rules, actor_of(principal))
    except BaseException:
        evidence_unstage(staged)
        raise
    return rows


def _submit(who: Actor, locked: Appeal) -> None:
    """Submit a locked draft, in the caller's transaction."""
    transition_check(locked.status, Status.SUBMITTED, verb="submitted")
    defect = Defect.objects.select_for_update().get(pk=locked.defect_id)
    rules = appeal_rules_for(locked.marketplace_id)
    now = timezone.now()
    _window_check(defect, now)
    _explanation(locked.explanation, rules)
    _appeal_count_check(defect, rules, exclude=locked.pk)
    _something_new_check(locked, defect)
    state, events = order_state_of(defect)
    findings = rules_evaluate(state, defect.kind, locked.reason, defect.source_key)
    # Frozen in the marketplace's language: it is the record sent with the appeal.
    with translation.override(locked.marketplace.default_language or "en"):
        frozen = evidence_build(state, events)
    locked.system_evidence = {"frozen_at": now.isoformat(), **frozen}
    locked.submitted_at = now
    locked.review_due_at = now + rules.review_period
    approving = None
    recommendations = []
    for finding in findings:
        mode = rules.mode_of(finding.rule)
        if finding.proved and mode == "approve" and approving is None:
            approving = finding
        elif finding.proved and mode == "recommend":
            recommendations.append({"rule": finding.rule, "facts": finding.facts})
    locked.recommendations = recommendations
    rule_data = [
        {"rule": f.rule, "proved": f.proved, "mode": rules.mode_of(f.rule), "facts": f.facts}
        for f in findings
    ]
    _move(
        locked,
        Status.SUBMITTED,
        actor=who,
        action="submit",
        verb="submitted",
        now=now,
        data={"rules": rule_data},
    )
    if approving is not None:
        note = (
            f"Approved automatically: the ledger proves the reason "
            f"({approving.rule.replace('_', ' ')})."
        )
        _decide(
            locked,
            approve=True,
            actor=Actor(rule=approving.rule),
            note=note,
            cause="rule",
            rule=approving.rule,
            facts=approving.facts,
            now=now,
        )


def appeal_submit(*, actor: Who, appeal: Appeal | int) -> Appeal:
    """Submit a draft: freeze the ledger's evidence, run the automatic rules, start the clock."""
    principal = principal_of(actor)
    with transaction.atomic():
        locked = _locked(appeal)
        writer_check(principal, locked)
        _submit(actor_of(principal), locked)
    return locked


def appeal_file(
    *,
    actor: Who,
    defect: Defect | int | None = None,
    appeal: Appeal | int | None = None,
    reason: Any,
    explanation: Any,
    uploads: Sequence[Upload] = (),
    submit: bool = False,
) -> Appeal:
    """The merchant's appeal form in one transaction: start a draft of `defect` (or edit the
    draft `appeal`), attach `uploads` and, with `submit`, submit it; all of it or none.

    Each step writes its own audit event, as the separate actions do. The files are staged
    before the transaction and promoted when it commits; any refusal deletes them again.
    """
    if (defect is None) == (appeal is None):
        raise TypeError("appeal_file needs either a defect (a new appeal) or a draft appeal")
    principal = principal_of(actor)
    who = actor_of(principal)
    draft: Appeal | None = None
    if appeal is not None:
        draft = _fresh(appeal)
        writer_check(principal, draft)
        found = draft.defect
    else:
        found = _defect_to_appeal(principal, defect)  # type: ignore[arg-type]
    rules = appeal_rules_for(found.marketplace_id)
    # Every file is checked before anything is written, then the texts of a new appeal.
    checked = [upload_check(name, content, rules) for name, content in uploads]
    if draft is None:
        code = _reason(found, reason)
        text = _explanation(explanation, rules)
    _own_transaction_check()
    staged = evidence_stage(checked)
    try:
        with transaction.atomic(durable=True):
            if draft is None:
                filed = _create(found, code, text, rules, who, timezone.now())
            else:
                filed = _locked(draft)
                _update(principal, filed, reason, explanation)
            if checked:
                _attach(filed, checked, staged, rules, who)
            if submit:
                _submit(who, filed)
    except BaseException:
        evidence_unstage(staged)
        raise
    return filed


def _something_new_check(appeal: Appeal, defect: Defect) -> None:
    earlier = _earlier_submitted(defect, exclude=appeal.pk)
    if not earlier:
        return
    known_texts = {" ".join(a.explanation.split()).lower() for a in earlier}
    known_files = set(
        AppealFile.objects.filter(appeal__in=earlier).values_list("sha256", flat=True)
    )
    mine = set(AppealFile.objects.filter(appeal=appeal).values_list("sha256", flat=True))
    if " ".join(appeal.explanation.split()).lower() in known_texts and not (mine - known_files):
        raise ValidationFailed(
            _("A second appeal needs something new."),
            [
                FieldError(
                    "explanation",
                    _(
                        "is the same as the earlier appeal's and no new file is attached; "
                        "write a new explanation or attach new files"
                    ),
                )
            ],
        )


def appeal_withdraw(*, actor: Who, appeal: Appeal | int, note: str = "") -> Appeal:
    """The merchant withdraws an open appeal."""
    principal = principal_of(actor)
    with transaction.atomic():
        locked = _locked(appeal)
        writer_check(principal, locked)
        now = timezone.now()
        locked.withdrawn_at = now
        locked.info_due_at = None
        _move(
            locked,
            Status.WITHDRAWN,
            actor=actor_of(principal),
            action="withdraw",
            verb="withdrawn",
            note=note[:2000],
            now=now,
        )
    return locked


def appeal_reply(
    *, actor: Who, appeal: Appeal | int, message: Any, uploads: Sequence[Upload] = ()
) -> Appeal:
    """The merchant answers an information request, optionally with files."""
    principal = principal_of(actor)
    current = _fresh(appeal)
    writer_check(principal, current)
    rules = appeal_rules_for(current.marketplace_id)
    text = _text(message, "message", low=1, high=rules.message_max, what="reply")
    if current.status != Status.INFO_REQUESTED:
        raise Conflict(
            _("No information was requested on this appeal; there is nothing to reply to.")
        )
    checked = _files_check(current, uploads, rules) if uploads else []
    _own_transaction_check()
    staged = evidence_stage(checked)
    who = actor_of(principal)
    try:
        with transaction.atomic(durable=True):
            locked = _locked(current)
            if locked.status != Status.INFO_REQUESTED:
                raise Conflict(
                    _("No information was requested on this appeal; there is nothing to reply to.")
                )
            if uploads:
                _count_check(locked, len(uploads), rules)
            now = timezone.now()
            reply = AppealMessage.objects.create(
                appeal=locked,
                kind=AppealMessage.Kind.REPLY,
                body=text,
                author_id=_user_id(who),
                author_label=who.label,
                created_at=now,
            )
            _file_rows(locked, checked, staged, who, now, reply=reply)
            locked.info_due_at = None
            locked.review_due_at = now + rules.review_period
            locked.overdue_flagged_at = None
            _move(
                locked,
                Status.IN_REVIEW,
                actor=who,
                action="reply",
                verb="answered",
                note=text,
                now=now,
                data={"files": [c.name for c in checked]},
            )
            if locked.assigned_to_id:
                _notify_reviewers(
                    locked,
                    [locked.assigned_to_id],
                    deferred(_replied_subject, locked.pk),
                    deferred(_replied_body, locked.pk, text),
                    who,
                )
    except BaseException:
        evidence_unstage(staged)
        raise
    return locked


# -- reviewer actions ----------------------------------------------------------------------


def _pick_up(appeal: Appeal, who: Actor, now: datetime) -> None:
    """A reviewer acting on a submitted appeal first takes it into review."""
    if appeal.status == Status.SUBMITTED:
        if appeal.assigned_to_id is None and who.user is not None:
            appeal.assigned_to_id = who.user.pk
        _move(appeal, Status.IN_REVIEW, actor=who, action="pick_up", verb="picked up", now=now)


def appeal_assign(*, actor: Who, appeal: Appeal | int, reviewer: Any) -> Appeal:
    """Assign an open appeal to a reviewer (taking a submitted one into review)."""
    principal = principal_of(actor)
    who = actor_of(principal)
    with transaction.atomic():
        locked = _locked(appeal)
        _require_reviewer(principal, locked)
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise ValidationFailed(
                _("The reviewer is not valid."),
                [FieldError("reviewer", _("give a reviewer's username"))],
            )
        user = get_user_model().objects.filter(username=reviewer.strip()).first()
        if (
            user is None
            or not StaffRole.objects.filter(user=user, role=StaffRole.Role.REVIEWER).exists()
        ):
            raise ValidationFailed(
                _("The reviewer is not valid."),
                [FieldError("reviewer", _("%(name)r is not a reviewer") % {"name": reviewer})],
            )
        now = timezone.now()
        if locked.status not in (Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED):
            transition_check(locked.status, Status.IN_REVIEW, verb="assigned")
        previous = locked.assigned_to.get_username() if locked.assigned_to else ""
        locked.assigned_to = user
        note = f"Assigned to {user.get_username()}."
        data = {"reviewer": user.get_username(), "previous": previous}
        if locked.status == Status.SUBMITTED:
            _move(
                locked,
                Status.IN_REVIEW,
                actor=who,
                action="assign",
                verb="assigned",
                now=now,
                note=note,
                data=data,
            )
        else:
            locked.updated_at = now
            locked.save(update_fields=["assigned_to", "updated_at"])
            _recorded(locked, who, "assign", note=note, data=data)
        _notify_reviewers(
            locked,
            [user.pk],
            deferred(_assigned_subject, locked.pk),
            deferred(_assigned_body, locked),
            who,
        )
    return locked


def appeal_request_info(*, actor: Who, appeal: Appeal | int, question: Any) -> Appeal:
    """A reviewer asks the merchant for more information (72 h to answer by default)."""
    principal = principal_of(actor)
    who = actor_of(principal)
    with transaction.atomic():
        locked = _locked(appeal)
        _require_reviewer(principal, locked)
        rules = appeal_rules_for(locked.marketplace_id)
        text = _text(question, "question", low=1, high=rules.message_max, what="question")
        now = timezone.now()
        if locked.status == Status.SUBMITTED:
            _pick_up(locked, who, now)
        transition_check(locked.status, Status.INFO_REQUESTED, verb="sent an information request")
        AppealMessage.objects.create(
            appeal=locked,
            kind=AppealMessage.Kind.QUESTION,
            body=text,
            author_id=_user_id(who),
            author_label=who.label,
            created_at=now,
        )
        locked.info_due_at = now + rules.info_period
        _move(
            locked,
            Status.INFO_REQUESTED,
            actor=who,
            action="request_info",
            verb="sent an information request",
            note=text,
            now=now,
            data={"answer_by": locked.info_due_at.isoformat()},
        )
    return locked


def _decide(
    appeal: Appeal,
    *,
    approve: bool,
    actor: Actor,
    note: str,
    cause: str,
    now: datetime,
    rule: str = "",
    facts: dict[str, Any] | None = None,
) -> None:
    """Record a decision on a locked appeal; an approval removes the defect."""
    target = Status.APPROVED if approve else Status.DENIED
    transition_check(appeal.status, target, verb="decided")
    appeal.decided_at = now
    appeal.decided_by_id = _user_id(actor)
    appeal.decided_by_label = actor.label
    appeal.decision_cause = cause
    appeal.decision_rule = rule
    appeal.decision_note = note
    appeal.decision_facts = facts or {}
    appeal.info_due_at = None
    _move(
        appeal,
        target,
        actor=actor,
        action="approve" if approve else "deny",
        verb="decided",
        note=note,
        now=now,
        data={"cause": cause, "rule": rule, "facts": facts or {}},
    )
    if approve:
        from defectdesk.defects.actions import defect_remove_by_appeal

        defect = Defect.objects.select_for_update().get(pk=appeal.defect_id)
        defect_remove_by_appeal(defect=defect, appeal_id=appeal.pk, at=now, actor=actor)


def _seen_check(locked: Appeal, seen: str | None) -> None:
    """Refuse a decision made against a state the appeal no longer has; say who changed it."""
    if seen is None or seen == locked.status:
        return
    if seen not in Status.values:
        raise ValidationFailed(
            _(
                "The decision does not say which state of the appeal you saw; reload the "
                "appeal and decide again."
            ),
            [FieldError("seen_status", f"must be one of {', '.join(Status.values)}")],
        )
    last = appeal_history(locked).last()
    who = last.actor_label if last is not None else "someone else"
    when = (
        _(" at %(when)s UTC") % {"when": f"{last.occurred_at:%Y-%m-%d %H:%M}"}
        if last is not None
        else ""
    )
    raise Conflict(
        _(
            "While you were reading, %(who)s changed this appeal%(when)s: "
            "it is now %(now)s, not %(seen)s."
        )
        % {
            "who": who,
            "when": when,
            "now": in_sentence(Status(locked.status).label),
            "seen": in_sentence(Status(seen).label),
        },
        [FieldError("seen_status", f"is {seen!r}; the appeal is now {locked.status!r}")],
    )


def appeal_decide(
    *, actor: Who, appeal: Appeal | int, decision: Any, note: Any = "", seen: str | None = None
) -> Appeal:
    """A reviewer approves or denies; a second decision, or one made against a state that has
    changed since the reviewer saw it (`seen`), is a 409."""
    principal = principal_of(actor)
    who = actor_of(principal)
    if decision not in ("approve", "deny"):
        raise ValidationFailed(
            _("The decision is not valid."),
            [FieldError("decision", _('must be "approve" or "deny"'))],
        )
    with transaction.atomic():
        locked = _locked(appeal)
        _require_reviewer(principal, locked)
        _seen_check(locked, seen)
        if locked.status in DECIDED_STATUSES:
            raise Conflict(
                _("The appeal was already decided (%(status)s by %(who)s).")
                % {
                    "status": in_sentence(Status(locked.status).label),
                    "who": locked.decided_by_label,
                }
            )
        rules = appeal_rules_for(locked.marketplace_id)
        text = note.strip() if isinstance(note, str) else note
        if decision == "approve" and rules.approval_note_required and not text:
            raise ValidationFailed(
                _("The approval was not recorded."),
                [
                    FieldError(
                        "note",
                        _(
                            "is required: this marketplace's policy asks for a note to the "
                            "merchant with every approval"
                        ),
                    )
                ],
            )
        if decision == "deny" or text:
            text = _text(note, "note", low=1, high=rules.message_max, what="note")
        now = timezone.now()
        if locked.status == Status.SUBMITTED:
            _pick_up(locked, who, now)
        _decide(
            locked,
            approve=decision == "approve",
            actor=who,
            note=text or "",
            cause="reviewer",
            now=now,
            facts={"recommendations": locked.recommendations} if locked.recommendations else None,
        )
    return locked


# -- deadlines -----------------------------------------------------------------------------


def appeal_expire(*, appeal: Appeal | int, now: datetime | None = None) -> Appeal | None:
    """Deny an appeal whose information request went unanswered past its deadline."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(appeal)
        if (
            locked.status != Status.INFO_REQUESTED
            or locked.info_due_at is None
            or locked.info_due_at > now
        ):
            return None
        rules = appeal_rules_for(locked.marketplace_id)
        note = (
            f"Denied as expired: the information request was not answered within "
            f"{rules.info_hours} hours."
        )
        _decide(
            locked,
            approve=False,
            actor=Actor(rule="info_request_deadline"),
            note=note,
            cause="expired",
            now=now,
            facts={"info_due_at": locked.info_due_at.isoformat()},
        )
    return locked


def appeals_expire_due(*, now: datetime | None = None) -> int:
    """The periodic job: expire every unanswered information request past its deadline."""
    now = now or timezone.now()
    due = list(
        Appeal.objects.filter(status=Status.INFO_REQUESTED, info_due_at__lte=now)
        .order_by("info_due_at", "id")
        .values_list("pk", flat=True)
    )
    return sum(1 for pk in due if appeal_expire(appeal=pk, now=now) is not None)


def appeals_flag_overdue(*, now: datetime | None = None) -> int:
    """The periodic job: flag appeals past their review deadline and tell the reviewers."""
    now = now or timezone.now()
    due = list(
        Appeal.objects.filter(
            status__in=[Status.SUBMITTED, Status.IN_REVIEW],
            review_due_at__lt=now,
            overdue_flagged_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    flagged = 0
    for pk in due:
        with transaction.atomic():
            taken = Appeal.objects.filter(
                pk=pk,
                status__in=[Status.SUBMITTED, Status.IN_REVIEW],
                review_due_at__lt=now,
                overdue_flagged_at__isnull=True,
            ).update(overdue_flagged_at=now)
            if not taken:
                continue
            appeal = Appeal.objects.select_related("defect", "defect__order").get(pk=pk)
            due_at = f"{appeal.review_due_at:%Y-%m-%d %H:%M}"
            _recorded(appeal, SYSTEM, "overdue", note=f"Past its review deadline of {due_at} UTC.")
            to = [appeal.assigned_to_id] if appeal.assigned_to_id else reviewer_user_ids()
            _notify_reviewers(
                appeal,
                to,
                deferred(_overdue_subject, pk),
                deferred(_overdue_body, appeal),
                SYSTEM,
            )
            flagged += 1
    return flagged
