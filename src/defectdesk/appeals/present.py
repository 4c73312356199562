"""Appeals as plain dicts for the API (and any other reader): state, deadlines, files, history."""

from __future__ import annotations

from typing import Any

from defectdesk.appeals.evidence import explanation_suggest
from defectdesk.appeals.models import Appeal, AppealFile
from defectdesk.appeals.reasons import reason_lookup, reasons_for
from defectdesk.appeals.selectors import appeal_history, order_state_of
from defectdesk.appeals.transitions import REVIEW_STATUSES, Status
from defectdesk.core.timeutil import iso_text


def file_as_dict(item: AppealFile) -> dict[str, Any]:
    return {
        "id": item.pk,
        "name": item.original_name,
        "content_type": item.content_type,
        "size": item.size,
        "uploaded_at": iso_text(item.uploaded_at),
        "uploaded_by": item.uploaded_by_label,
        "reply": item.reply_id,
        "url": f"/api/v1/appeals/{item.appeal_id}/files/{item.pk}",
    }


def appeal_summary(appeal: Appeal) -> dict[str, Any]:
    """The fields a list shows."""
    defect = appeal.defect
    reason = reason_lookup(defect.kind, appeal.reason)
    return {
        "id": appeal.pk,
        "status": appeal.status,
        "status_label": str(Status(appeal.status).label),
        "status_text": appeal.status_text,
        "denied_because_reply_deadline_passed": appeal.status == Status.DENIED
        and appeal.decision_cause == "expired",
        "seller": appeal.seller.external_id,
        "marketplace": appeal.marketplace.code,
        "defect": {
            "id": defect.pk,
            "kind": defect.kind,
            "order": defect.order.order_ref,
            "status": defect.status,
            "opened_at": iso_text(defect.opened_at),
        },
        "reason": appeal.reason,
        "reason_label": reason.label if reason else appeal.reason,
        "created_at": iso_text(appeal.created_at),
        "submitted_at": iso_text(appeal.submitted_at),
        "decision_expected_by": iso_text(appeal.review_due_at)
        if appeal.status in REVIEW_STATUSES
        else None,
        "info_due_at": iso_text(appeal.info_due_at),
        "overdue": appeal.overdue_flagged_at is not None and appeal.status in REVIEW_STATUSES,
        "assigned_to": appeal.assigned_to.get_username() if appeal.assigned_to else None,
        "decided_at": iso_text(appeal.decided_at),
    }


def appeal_detail(appeal: Appeal, *, suggested: str | None = None) -> dict[str, Any]:
    """Everything about one appeal: state, deadlines, files, messages, decision, history."""
    out = appeal_summary(appeal)
    reason = reason_lookup(appeal.defect.kind, appeal.reason)
    out.update(
        explanation=appeal.explanation,
        guidance=reason.guidance if reason else "",
        reasons=[
            {"code": r.code, "label": r.label, "guidance": r.guidance}
            for r in reasons_for(appeal.defect.kind)
        ],
        suggested_explanation=suggested,
        files=[file_as_dict(f) for f in appeal.files.all()],
        messages=[
            {
                "id": m.pk,
                "kind": m.kind,
                "body": m.body,
                "by": m.author_label,
                "at": iso_text(m.created_at),
            }
            for m in appeal.messages.all()
        ],
        recommendations=appeal.recommendations,
        decision=None
        if appeal.decided_at is None
        else {
            "outcome": appeal.status,
            "by": appeal.decided_by_label,
            "cause": appeal.decision_cause,
            "rule": appeal.decision_rule or None,
            "note": appeal.decision_note,
            "facts": appeal.decision_facts,
            "at": iso_text(appeal.decided_at),
        },
        system_evidence=appeal.system_evidence or None,
        history=[
            {
                "at": iso_text(e.occurred_at),
                "actor": e.actor_label,
                "action": e.action,
                "from": e.from_state,
                "to": e.to_state,
                "note": e.note,
            }
            for e in appeal_history(appeal)
        ],
    )
    return out


def suggestion_for(appeal: Appeal) -> str:
    """The suggested explanation for the appeal's reason, from the ledger's current facts."""
    state, _ = order_state_of(appeal.defect)
    return explanation_suggest(state, appeal.defect.kind, appeal.reason, appeal.defect.source_key)
