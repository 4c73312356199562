"""Every state change of mirror mode: one action each, each writing its audit event.

The external marketplace decides; DefectDesk prepares what the merchant sends and records
what the marketplace answered, as the merchant reports it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from defectdesk.accounts.models import Seller
from defectdesk.accounts.roles import Principal
from defectdesk.appeals.actions import actor_of
from defectdesk.appeals.selectors import Who, principal_of
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from defectdesk.defects.models import Defect
from defectdesk.ledger.fold import OrderState
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Marketplace
from defectdesk.mirror import packets
from defectdesk.mirror.models import HiddenFact, MirrorAccount, MirrorCase
from defectdesk.mirror.profile import SITES, amazon_rules
from defectdesk.mirror.reports import ORDER_ID

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARTNER_ID = re.compile(r"^[A-Z0-9]{8,20}$")
Status = MirrorCase.Status

# What the merchant may record, from each state (Amazon decides; the merchant reports it).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PREPARED: frozenset({Status.EXPORTED, Status.SUBMITTED, Status.WITHDRAWN}),
    Status.EXPORTED: frozenset({Status.SUBMITTED, Status.WITHDRAWN}),
    Status.SUBMITTED: frozenset(
        {Status.INFO_REQUESTED, Status.APPROVED, Status.DENIED, Status.WITHDRAWN}
    ),
    Status.INFO_REQUESTED: frozenset(
        {Status.SUBMITTED, Status.APPROVED, Status.DENIED, Status.WITHDRAWN}
    ),
    Status.APPROVED: frozenset(),
    Status.DENIED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}
OPEN = frozenset({Status.PREPARED, Status.EXPORTED, Status.SUBMITTED, Status.INFO_REQUESTED})
RECORDABLE = ("submitted", "info_requested", "approved", "denied", "withdrawn")


Caller = Who | Actor


def _who(actor: Caller) -> tuple[Principal | None, Actor]:
    """The principal whose rights are checked (None for the command line and jobs, which act
    as the system) and the audit actor."""
    if isinstance(actor, Actor):
        return None, actor
    principal = principal_of(actor)
    return principal, actor_of(principal)


def _writer(principal: Principal | None, seller_id: int) -> None:
    if principal is None:
        return
    if not principal.may_read_seller(seller_id):
        raise NotFound("Not found.")
    if not principal.may_write_seller(seller_id):
        raise Forbidden(
            "Read-only access: you may view this seller's Amazon data but not change it."
        )


def _text(value: Any, field: str, *, high: int, low: int = 0, what: str = "text") -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"The {what} is not valid.", [FieldError(field, "must be text")])
    text = value.replace("\r\n", "\n").strip()
    if _CONTROL.search(text):
        raise ValidationFailed(
            f"The {what} is not valid.", [FieldError(field, "must not contain control characters")]
        )
    if len(text) < low:
        raise ValidationFailed(
            f"The {what} is not valid.", [FieldError(field, f"must be at least {low} characters")]
        )
    if len(text) > high:
        raise ValidationFailed(
            f"The {what} is not valid.",
            [FieldError(field, f"is {len(text):,} characters; Amazon's box takes {high:,}")],
        )
    return text


# -- accounts ------------------------------------------------------------------------------


def mirror_account_create(
    *, actor: Caller, seller: Seller | int, site: Any, selling_partner_id: Any = ""
) -> MirrorAccount:
    """Add an external Amazon marketplace to a seller: the marketplace (decided by Amazon, in
    its zone and currency) is created once for everyone, the account once per seller."""
    principal, who = _who(actor)
    seller_id = seller if isinstance(seller, int) else seller.pk
    _writer(principal, seller_id)
    if not isinstance(site, str) or site not in SITES:
        raise ValidationFailed(
            "The Amazon marketplace was not added.",
            [FieldError("site", f"must be one of {', '.join(SITES)}")],
        )
    partner = selling_partner_id.strip().upper() if isinstance(selling_partner_id, str) else ""
    if partner and not _PARTNER_ID.match(partner):
        raise ValidationFailed(
            "The Amazon marketplace was not added.",
            [
                FieldError(
                    "selling_partner_id",
                    "must be Amazon's merchant token: 8 to 20 capital letters and digits",
                )
            ],
        )
    spec = SITES[site]
    with transaction.atomic():
        market, made = Marketplace.objects.select_for_update().get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "timezone": spec.timezone,
                "currency": spec.currency,
                "external": True,
                "decided_by": spec.site,
            },
        )
        if not market.external:
            raise Conflict(
                f"Marketplace {spec.code} exists and is not external; ask an operator to rename it."
            )
        account = MirrorAccount.objects.filter(seller_id=seller_id, marketplace=market).first()
        if account is not None:
            return account
        account = MirrorAccount.objects.create(
            seller_id=seller_id,
            marketplace=market,
            site=spec.site,
            amazon_marketplace_id=spec.marketplace_id,
            selling_partner_id=partner,
            created_at=timezone.now(),
            created_by=who.signed_in,  # type: ignore[misc]
        )
        audit_record(
            actor=who,
            action="mirror.account_create",
            object_type="mirror_account",
            object_id=account.pk,
            seller_id=seller_id,
            to_state="created",
            data={"site": spec.site, "marketplace": spec.code, "marketplace_created": made},
        )
    return account


# -- cases ---------------------------------------------------------------------------------


def _locked(case: MirrorCase | int) -> MirrorCase:
    pk = case if isinstance(case, int) else case.pk
    found = MirrorCase.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotFound(f"Request {pk} not found.")
    return found


def _case_audited(who: Actor, case: MirrorCase, verb: str, before: str, **details: Any) -> None:
    """Audit a request's move from `before` to its current status as `mirror.case_<verb>`."""
    audit_record(
        actor=who,
        action=f"mirror.case_{verb}",
        object_type="mirror_case",
        object_id=case.pk,
        seller_id=case.seller_id,
        from_state=before,
        to_state=case.status,
        **details,
    )


def _case_saved(who: Actor, case: MirrorCase, verb: str, before: str, **details: Any) -> None:
    """Save a request's new state and audit the change (see `_case_audited`)."""
    case.save()
    _case_audited(who, case, verb, before, **details)


def _ingested(event: dict[str, Any], refused: str) -> None:
    """Put one event built here into the ledger; ValidationFailed(`refused`, its errors) if the
    ledger refuses it."""
    result = events_ingest([Candidate(0, event)])
    if result.rejected:
        raise ValidationFailed(refused, list(result.rejected[0].errors))


def case_open(
    *,
    actor: Caller,
    account: MirrorAccount,
    kind: str,
    body: str,
    fields: dict[str, Any],
    defect: Defect | None = None,
    order_ref: str = "",
    criterion: str = "",
    due_at: datetime | None = None,
) -> MirrorCase:
    """Save a prepared request (built by `mirror.packets`) for the merchant to edit and send."""
    principal, who = _who(actor)
    _writer(principal, account.seller_id)
    if kind not in MirrorCase.Kind.values:
        raise ValidationFailed("The request was not saved.", [FieldError("kind", "is not known")])
    now = timezone.now()
    try:
        with transaction.atomic():
            case = MirrorCase.objects.create(
                account=account,
                seller_id=account.seller_id,
                marketplace_id=account.marketplace_id,
                defect=defect,
                order_ref=order_ref,
                kind=kind,
                criterion=criterion,
                body=body,
                fields=fields,
                due_at=due_at,
                created_at=now,
                updated_at=now,
                created_by=who.signed_in,  # type: ignore[misc]
            )
            audit_record(
                actor=who,
                action="mirror.case_open",
                object_type="mirror_case",
                object_id=case.pk,
                seller_id=account.seller_id,
                to_state=case.status,
                data={"kind": kind, "order": order_ref, "criterion": criterion},
            )
    except IntegrityError:
        raise Conflict(
            "A request of this kind is already open for this defect; record Amazon's answer to "
            "it or withdraw it first."
        ) from None
    return case


def case_edit(*, actor: Caller, case: MirrorCase | int, body: Any) -> MirrorCase:
    """Change the text of a request that has not been sent yet."""
    principal, who = _who(actor)
    with transaction.atomic():
        locked = _locked(case)
        _writer(principal, locked.seller_id)
        if locked.status not in (Status.PREPARED, Status.EXPORTED):
            raise InvalidTransition(
                f"The request is {locked.get_status_display().lower()}; only one not sent yet can "
                "be edited."
            )
        rules = amazon_rules()
        limits: dict[str, int] = {
            MirrorCase.Kind.A_TO_Z_RESPONSE: rules.a_to_z_box_chars,
            MirrorCase.Kind.FEEDBACK_REMOVAL: rules.feedback_removal_chars,
            MirrorCase.Kind.CHARGEBACK_REPRESENTMENT: rules.chargeback_comment_chars,
        }
        limit = limits.get(locked.kind, rules.plan_of_action_chars)
        locked.body = _text(body, "body", high=limit, low=1, what="request")
        before = locked.status
        locked.status = Status.PREPARED
        locked.updated_at = timezone.now()
        _case_saved(who, locked, "edit", before, data={"chars": len(locked.body)})
    return locked


def case_export(*, actor: Caller, case: MirrorCase | int) -> MirrorCase:
    """Mark a request exported (its text downloaded or copied to send to Amazon)."""
    principal, who = _who(actor)
    with transaction.atomic():
        locked = _locked(case)
        _writer(principal, locked.seller_id)
        if locked.status != Status.PREPARED:
            return locked
        locked.status = Status.EXPORTED
        locked.exported_at = locked.updated_at = timezone.now()
        _case_saved(who, locked, "export", Status.PREPARED)
    return locked


def case_record(
    *,
    actor: Caller,
    case: MirrorCase | int,
    outcome: Any,
    note: Any = "",
    deadline: datetime | None = None,
    reference: Any = "",
) -> MirrorCase:
    """Record what the merchant did or Amazon answered: submitted, information requested
    (with Amazon's deadline), approved, denied, or withdrawn. An approval takes its effect in
    the ledger (a feedback removed, a claim or chargeback decided for the seller)."""
    principal, who = _who(actor)
    if outcome not in RECORDABLE:
        raise ValidationFailed(
            "Nothing was recorded.",
            [FieldError("outcome", f"must be one of {', '.join(RECORDABLE)}")],
        )
    text = _text(note or "", "note", high=4000, what="note")
    ref = _text(reference or "", "reference", high=100, what="reference")
    if outcome == Status.INFO_REQUESTED and deadline is None:
        raise ValidationFailed(
            "Nothing was recorded.",
            [FieldError("deadline", "is required: the date by which Amazon wants the answer")],
        )
    with transaction.atomic():
        locked = _locked(case)
        _writer(principal, locked.seller_id)
        if outcome not in TRANSITIONS.get(locked.status, frozenset()):
            raise InvalidTransition(
                f"The request is {locked.get_status_display().lower()}; it cannot be recorded as "
                f"{Status(outcome).label.lower()}."
            )
        now = timezone.now()
        before = locked.status
        locked.status = outcome
        locked.updated_at = now
        if text:
            locked.note = text
        if ref:
            locked.amazon_reference = ref
        if outcome == Status.SUBMITTED:
            locked.submitted_at = locked.submitted_at or now
            locked.amazon_deadline = None
        elif outcome == Status.INFO_REQUESTED:
            locked.amazon_deadline = deadline
        elif outcome in (Status.APPROVED, Status.DENIED):
            locked.decided_at = now
            locked.amazon_deadline = None
        locked.save()
        effect = _approval_effect(locked, who, now) if outcome == Status.APPROVED else ""
        _case_audited(
            who,
            locked,
            outcome,
            before,
            note=text,
            data={
                "decided_by": "amazon" if outcome in (Status.APPROVED, Status.DENIED) else "",
                "deadline": deadline.isoformat() if deadline else None,
                "effect": effect,
            },
        )
    return locked


def _approval_effect(case: MirrorCase, who: Actor, now: datetime) -> str:
    """The ledger event Amazon's approval implies; "" when it implies none."""
    defect = case.defect
    if defect is None:
        return ""
    recorded = f"recorded by {who.label}"
    data: dict[str, Any]
    if case.kind == MirrorCase.Kind.FEEDBACK_REMOVAL:
        kind = "feedback.removed"
        data = {
            "feedback_id": defect.source_key,
            "reason": f"Removed by Amazon at the seller's request ({recorded})",
        }
    elif case.kind in (MirrorCase.Kind.A_TO_Z_RESPONSE, MirrorCase.Kind.DEFECT_APPEAL) and (
        defect.kind == Defect.Kind.A_TO_Z_CLAIM
    ):
        kind = "claim.decided"
        data = {"claim_id": defect.source_key, "outcome": "granted_marketplace_funded"}
    elif case.kind == MirrorCase.Kind.CHARGEBACK_REPRESENTMENT or (
        defect.kind == Defect.Kind.CHARGEBACK
    ):
        kind = "chargeback.decided"
        data = {"chargeback_id": defect.source_key, "outcome": "won"}
    else:
        return ""
    data.update({"source": "amazon:decision", "mirror_case": case.pk})
    event = {
        "id": f"amz-case-{case.pk}-approved",
        "type": kind,
        "occurred_at": now.isoformat(),
        "marketplace": case.marketplace.code,
        "seller": case.seller.external_id,
        "order": case.order_ref,
        "data": data,
    }
    _ingested(event, "Amazon's approval could not be recorded.")
    return kind


# -- what Amazon hides ---------------------------------------------------------------------

CLAIM_REASONS = ("not_received", "not_as_described", "return_not_refunded", "other")
CHARGEBACK_REASONS = (
    "not_received",
    "not_as_described",
    "duplicate",
    "fraud",
    "unrecognized",
    "other",
)


def hidden_fact_enter(
    *,
    actor: Caller,
    account: MirrorAccount,
    kind: Any,
    order_ref: Any,
    reason: Any,
    deadline: datetime | None,
    reference: Any = "",
    filed_at: datetime | None = None,
) -> HiddenFact:
    """Enter an A-to-z claim, a chargeback or an information request from Amazon's e-mail.
    A claim or chargeback becomes a ledger event (a defect, as Amazon counts it)."""
    principal, who = _who(actor)
    _writer(principal, account.seller_id)
    errors = []
    if kind not in HiddenFact.Kind.values:
        errors.append(FieldError("kind", f"must be one of {', '.join(HiddenFact.Kind.values)}"))
    order = order_ref.strip() if isinstance(order_ref, str) else ""
    if not ORDER_ID.match(order):
        errors.append(FieldError("order", "must be an Amazon order id such as 113-8871452-8288246"))
    allowed = CHARGEBACK_REASONS if kind == HiddenFact.Kind.CHARGEBACK else CLAIM_REASONS
    if kind != HiddenFact.Kind.INFO_REQUEST and reason not in allowed:
        errors.append(FieldError("reason", f"must be one of {', '.join(allowed)}"))
    ref = reference.strip()[:100] if isinstance(reference, str) else ""
    if _CONTROL.search(ref):
        errors.append(FieldError("reference", "must not contain control characters"))
    if kind == HiddenFact.Kind.INFO_REQUEST and deadline is None:
        errors.append(FieldError("deadline", "is required for an information request"))
    if errors:
        raise ValidationFailed("Nothing was entered.", errors)
    now = timezone.now()
    at = filed_at or now
    if at > now:
        raise ValidationFailed("Nothing was entered.", [FieldError("filed_at", "is in the future")])
    with transaction.atomic():
        fact = HiddenFact.objects.create(
            account=account,
            kind=kind,
            order_ref=order,
            reason=str(reason or "")[:32],
            deadline=deadline,
            reference=ref,
            created_at=now,
            created_by_label=who.label,
        )
        if kind != HiddenFact.Kind.INFO_REQUEST:
            _dispute_entered(fact, account, reason, deadline, at)
        else:
            _info_requested(who, account, order, deadline, ref)
        audit_record(
            actor=who,
            action="mirror.hidden_fact_enter",
            object_type="mirror_fact",
            object_id=fact.pk,
            seller_id=account.seller_id,
            to_state=kind,
            data={"order": order, "reason": fact.reason, "event": fact.event_id},
        )
    return fact


def _dispute_entered(
    fact: HiddenFact,
    account: MirrorAccount,
    reason: Any,
    deadline: datetime | None,
    at: datetime,
) -> None:
    """An entered claim or chargeback becomes its `.filed` event in the ledger; the fact keeps
    the event's id. ValidationFailed if the ledger refuses it."""
    claim = fact.kind == HiddenFact.Kind.A_TO_Z_CLAIM
    order, ref = fact.order_ref, fact.reference
    key = ref or order
    event_id = f"amz-entered-{'claim' if claim else 'chargeback'}-{order}-{key}"[:128]
    data: dict[str, Any] = {
        "claim_id" if claim else "chargeback_id": (
            f"amz-atoz-{order}" if claim else f"amz-cb-entered-{key}"
        )[:128],
        "reason": reason,
        "source": "amazon:entered",
    }
    if deadline is not None:
        data["respond_by"] = deadline.isoformat()
    if ref:
        data["reference"] = ref
    _ingested(
        {
            "id": event_id,
            "type": "claim.filed" if claim else "chargeback.filed",
            "occurred_at": at.isoformat(),
            "marketplace": account.marketplace.code,
            "seller": account.seller.external_id,
            "order": order,
            "data": data,
        },
        "Nothing was entered.",
    )
    fact.event_id = event_id
    fact.save(update_fields=["event_id"])


def _info_requested(
    who: Actor, account: MirrorAccount, order: str, deadline: datetime | None, ref: str
) -> None:
    """Amazon asked for information about an order: the open request on it records that."""
    case = (
        MirrorCase.objects.select_for_update()
        .filter(account=account, order_ref=order, status__in=[Status.SUBMITTED])
        .order_by("-created_at")
        .first()
    )
    if case is None:
        return
    case.status = Status.INFO_REQUESTED
    case.amazon_deadline = deadline
    if ref:
        case.amazon_reference = ref
    case.updated_at = timezone.now()
    _case_saved(
        who,
        case,
        "info_requested",
        Status.SUBMITTED,
        data={"deadline": deadline.isoformat() if deadline else None},
    )


# -- drafting requests ---------------------------------------------------------------------


def _respond_by(account: MirrorAccount, order: str, kind: str) -> datetime | None:
    fact = (
        HiddenFact.objects.filter(account=account, order_ref=order, kind=kind)
        .exclude(deadline=None)
        .order_by("-created_at")
        .first()
    )
    return fact.deadline if fact is not None else None


def _feedback_removal(
    defect: Defect, state: OrderState, criterion: Any, now: datetime, tz: ZoneInfo
) -> tuple[str, packets.Draft]:
    """A removal request for negative feedback, if it meets the criterion named (Refusal if
    not, or if it is too old)."""
    rules = amazon_rules()
    feedback = state.feedback.get(defect.source_key)
    if feedback is None or not feedback.postings:
        raise Conflict("The feedback is not in your data any more.")
    first, latest = feedback.postings[0], feedback.postings[-1]
    code = criterion if isinstance(criterion, str) else ""
    packets.feedback_removal_check(
        criterion=code,
        comment=latest.comment or "",
        fulfillment=state.fulfillment,
        posted_at=first.at,
        now=now,
        rules=rules,
    )
    draft = packets.feedback_removal_draft(
        order_ref=state.order_ref,
        criterion=code,
        comment=latest.comment or "",
        rating=latest.rating,
        posted_at=first.at,
        tz=tz,
        rules=rules,
    )
    return MirrorCase.Kind.FEEDBACK_REMOVAL, draft


def _a_to_z_answer(
    account: MirrorAccount, defect: Defect, state: OrderState, now: datetime, tz: ZoneInfo
) -> tuple[str, packets.Draft]:
    """The response to an open A-to-z claim; once it was decided against the seller, the
    appeal of that decision (Refusal after Amazon's appeal window)."""
    rules = amazon_rules()
    claim = state.claims.get(defect.source_key)
    filed = claim.filed_at if claim else None
    reason = (claim.reason if claim else None) or "other"
    draft = packets.a_to_z_response_draft(
        state=state,
        reason=reason,
        filed_at=filed,
        respond_by=_respond_by(account, state.order_ref, HiddenFact.Kind.A_TO_Z_CLAIM),
        tz=tz,
        rules=rules,
    )
    kind: str = MirrorCase.Kind.A_TO_Z_RESPONSE
    decided = claim.decisions[-1] if claim and claim.decisions else None
    if decided is not None and decided.outcome == "granted_seller_funded":
        # Decided against the seller: what is left is an appeal, 30 days from then.
        kind = MirrorCase.Kind.DEFECT_APPEAL
        draft.due_at = decided.at + timedelta(days=rules.a_to_z_appeal_days)
        if draft.due_at < now:
            raise packets.Refusal(
                f"Amazon takes an appeal of an A-to-z decision within "
                f"{rules.a_to_z_appeal_days} days; this one was decided on "
                f"{decided.at.astimezone(tz):%Y-%m-%d}."
            )
    return kind, draft


def _representment(
    account: MirrorAccount, defect: Defect, state: OrderState, tz: ZoneInfo
) -> tuple[str, packets.Draft]:
    """The representment of a chargeback."""
    dispute = state.chargebacks.get(defect.source_key)
    draft = packets.chargeback_draft(
        state=state,
        filed_at=dispute.filed_at if dispute else None,
        respond_by=_respond_by(account, state.order_ref, HiddenFact.Kind.CHARGEBACK),
        tz=tz,
        rules=amazon_rules(),
    )
    return MirrorCase.Kind.CHARGEBACK_REPRESENTMENT, draft


def case_draft(
    *, actor: Caller, account: MirrorAccount, defect: Defect, criterion: Any = ""
) -> MirrorCase:
    """Draft the request Amazon's form takes for this defect and save it to edit: a feedback
    removal (only with a criterion the feedback meets, within 90 days), an A-to-z response or
    appeal, or a chargeback representment."""
    from defectdesk.appeals.selectors import order_state_of
    from defectdesk.core.timeutil import zone

    principal, _who_actor = _who(actor)
    _writer(principal, account.seller_id)
    if defect.seller_id != account.seller_id or defect.marketplace_id != account.marketplace_id:
        raise NotFound("Defect not found.")
    if defect.status != Defect.Status.ACTIVE:
        raise Conflict("The defect is no longer active: there is nothing to ask Amazon for.")
    tz = zone(account.marketplace.timezone)
    state, _events = order_state_of(defect)
    now = timezone.now()
    try:
        if defect.kind == Defect.Kind.NEGATIVE_FEEDBACK:
            kind, draft = _feedback_removal(defect, state, criterion, now, tz)
        elif defect.kind == Defect.Kind.A_TO_Z_CLAIM:
            kind, draft = _a_to_z_answer(account, defect, state, now, tz)
        elif defect.kind == Defect.Kind.CHARGEBACK:
            kind, draft = _representment(account, defect, state, tz)
        else:
            raise packets.Refusal(
                f"Amazon has no per-order form for a {defect.get_kind_display().lower()}: "
                "answer it in a Plan of Action."
            )
    except packets.Refusal as exc:
        raise ValidationFailed(
            "No request was drafted.", [FieldError("criterion", str(exc))]
        ) from None
    return case_open(
        actor=actor,
        account=account,
        kind=kind,
        body=draft.body,
        fields=draft.fields,
        defect=defect,
        order_ref=state.order_ref,
        criterion=str(draft.fields.get("criterion", "")),
        due_at=draft.due_at,
    )


def plan_of_action_build(*, actor: Caller, account: MirrorAccount) -> MirrorCase:
    """Draft a Plan of Action from the account's active defects, grouped by root cause."""

    principal, _who_actor = _who(actor)
    _writer(principal, account.seller_id)
    defects = (
        Defect.objects.filter(
            seller_id=account.seller_id,
            marketplace_id=account.marketplace_id,
            status=Defect.Status.ACTIVE,
        )
        .select_related("order")
        .order_by("opened_at")[:2000]
    )
    comments = _feedback_comments(account, [d.order.order_ref for d in defects])
    lines = [
        packets.DefectLine(
            d.kind,
            d.order.order_ref,
            comment=comments.get((d.order.order_ref, d.source_key), ""),
        )
        for d in defects
    ]
    draft = packets.plan_of_action_draft(lines, amazon_rules())
    return case_open(
        actor=actor,
        account=account,
        kind=MirrorCase.Kind.PLAN_OF_ACTION,
        body=draft.body,
        fields=draft.fields,
    )


def _feedback_comments(account: MirrorAccount, orders: list[str]) -> dict[tuple[str, str], str]:
    from defectdesk.ledger.models import Event

    found: dict[tuple[str, str], str] = {}
    rows = Event.objects.filter(
        marketplace_id=account.marketplace_id, type="feedback.posted", order_ref__in=orders
    ).order_by("occurred_at", "event_id")
    for order_ref, data in rows.values_list("order_ref", "data"):
        found[(order_ref, str(data.get("feedback_id", "")))] = str(data.get("comment", ""))
    return found
