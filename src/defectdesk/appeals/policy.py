"""The appeal rules in force for a marketplace, read from its policy row at call time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from defectdesk.appeals.models import AppealPolicy
from defectdesk.appeals.rules_policy import (
    DEFAULT_AUTO_RULES,
    DEFAULT_FILING_WINDOW_DAYS,
    RULE_MODES,
    AppealRules,
)
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import FieldError, ValidationFailed
from defectdesk.ledger.models import Marketplace
from defectdesk.policy.actions import policy_set
from defectdesk.policy.models import MarketplacePolicy, PolicyReplay
from defectdesk.policy.selectors import policy_replay_latest


def appeal_rules_for(marketplace_id: int) -> AppealRules:
    """The marketplace's appeal rules: its policy row over the defaults of DESIGN §6."""
    row = AppealPolicy.objects.filter(marketplace_id=marketplace_id).first()
    if row is None:
        return AppealRules()
    defaults = AppealRules()
    windows = dict(DEFAULT_FILING_WINDOW_DAYS)
    windows.update({k: int(v) for k, v in (row.filing_window_days or {}).items()})
    modes = dict(DEFAULT_AUTO_RULES)
    modes.update({k: str(v) for k, v in (row.auto_rules or {}).items() if v in RULE_MODES})

    def pick(value: int | None, default: int) -> int:
        return default if value is None else int(value)

    return AppealRules(
        filing_window_days=windows,
        seller_funded_claim_window_days=pick(
            row.seller_funded_claim_window_days, defaults.seller_funded_claim_window_days
        ),
        max_appeals_per_defect=pick(row.max_appeals_per_defect, defaults.max_appeals_per_defect),
        explanation_min=pick(row.explanation_min, defaults.explanation_min),
        explanation_max=pick(row.explanation_max, defaults.explanation_max),
        max_files=pick(row.max_files, defaults.max_files),
        max_file_bytes=pick(row.max_file_bytes, defaults.max_file_bytes),
        review_hours=pick(row.review_hours, defaults.review_hours),
        info_hours=pick(row.info_hours, defaults.info_hours),
        auto_rules=modes,
        approval_note_required=row.approval_note_required,
    )


def appeal_policy_validate(auto_rules: dict[str, object], windows: dict[str, object]) -> None:
    """Refuse a policy row whose modes or windows make no sense."""
    errors = [
        FieldError(f"auto_rules.{name}", f"must be one of {', '.join(RULE_MODES)}")
        for name, mode in auto_rules.items()
        if mode not in RULE_MODES
    ]
    errors += [
        FieldError(f"filing_window_days.{kind}", "must be a whole number of days, 1 or more")
        for kind, days in windows.items()
        if not isinstance(days, int) or isinstance(days, bool) or days < 1
    ]
    if errors:
        raise ValidationFailed("The appeal policy is not valid.", errors)


APPEAL_POLICY_HOURS = ("review_hours", "info_hours")


def appeal_policy_errors(
    *, filing_window_days: dict[str, Any], hours: dict[str, Any], auto_rules: dict[str, Any]
) -> list[FieldError]:
    """Every problem with an appeal policy edit, each naming its field."""
    try:
        appeal_policy_validate(auto_rules, filing_window_days)
        errors: list[FieldError] = []
    except ValidationFailed as exc:
        errors = list(exc.errors)
    errors += [
        FieldError(f"filing_window_days.{kind}", "unknown defect kind")
        for kind in filing_window_days
        if kind not in DEFAULT_FILING_WINDOW_DAYS
    ]
    errors += [
        FieldError(f"auto_rules.{name}", "unknown automatic rule")
        for name in auto_rules
        if name not in DEFAULT_AUTO_RULES
    ]
    for name, value in hours.items():
        if name not in APPEAL_POLICY_HOURS:
            errors.append(FieldError(name, "unknown setting"))
        elif not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 8760:
            errors.append(FieldError(name, "must be a whole number of hours from 1 to 8760"))
    return errors


def appeal_policy_set(
    *,
    actor: Actor,
    marketplace: Marketplace,
    filing_window_days: dict[str, Any],
    hours: dict[str, Any],
    auto_rules: dict[str, Any],
    approval_note_required: bool | None = None,
) -> AppealPolicy:
    """Store a marketplace's filing windows, deadlines and automatic rule modes (all or none)."""
    errors = appeal_policy_errors(
        filing_window_days=filing_window_days, hours=hours, auto_rules=auto_rules
    )
    if errors:
        raise ValidationFailed("The appeal policy is not valid; the previous one is kept.", errors)
    with transaction.atomic():
        row, _ = AppealPolicy.objects.select_for_update().get_or_create(marketplace=marketplace)
        before = {
            "filing_window_days": row.filing_window_days,
            "review_hours": row.review_hours,
            "info_hours": row.info_hours,
            "auto_rules": row.auto_rules,
            "approval_note_required": row.approval_note_required,
        }
        row.filing_window_days = {**(row.filing_window_days or {}), **filing_window_days}
        row.auto_rules = {**(row.auto_rules or {}), **auto_rules}
        if "review_hours" in hours:
            row.review_hours = hours["review_hours"]
        if "info_hours" in hours:
            row.info_hours = hours["info_hours"]
        if approval_note_required is not None:
            row.approval_note_required = bool(approval_note_required)
        row.save()
        after = {
            "filing_window_days": row.filing_window_days,
            "review_hours": row.review_hours,
            "info_hours": row.info_hours,
            "auto_rules": row.auto_rules,
            "approval_note_required": row.approval_note_required,
        }
        if after != before:
            audit_record(
                actor=actor,
                action="appeal_policy_set",
                object_type="appeal_policy",
                object_id=marketplace.code,
                data={"before": before, "after": after},
            )
    return row


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """What an operator's policy change stored, and the recompute it queued (if any)."""

    policy: MarketplacePolicy
    replay: PolicyReplay | None


def marketplace_policy_set(
    *,
    actor: Actor,
    marketplace: Marketplace,
    profile: dict[str, Any],
    appeal: dict[str, Any],
) -> PolicyChange:
    """The operator's policy form in one transaction: the metrics profile and the appeal policy
    (`appeal_policy_set`'s arguments), all or none, each audited as its own change.

    A change of the defect rules queues the recompute as a job (it may take minutes on a large
    marketplace); the returned `replay` is its progress row.
    """
    with transaction.atomic(durable=True):
        row = policy_set(marketplace=marketplace, profile=profile, actor=actor, replay_later=True)
        appeal_policy_set(actor=actor, marketplace=marketplace, **appeal)
        replay = policy_replay_latest(marketplace.pk)
        queued = replay if replay is not None and replay.policy_version == row.version else None
    return PolicyChange(policy=row, replay=queued)
