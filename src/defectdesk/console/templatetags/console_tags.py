"""Template helpers of the console: percentages, durations, evidence times, lookups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from defectdesk.policy.metrics import percent

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    return percent(value)


@register.filter
def hours(value: float | None) -> str:
    if value is None:
        return "—"
    return _("%(n)s h") % {"n": f"{value:.1f}"}


@register.filter
def isotime(value: Any) -> str:
    """An ISO-8601 time from frozen evidence, shown in the viewer's zone ("—" when absent)."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return str(value)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.filter
def event_label(kind: Any) -> str:
    """A ledger event type in words ("order.placed" reads "Order placed")."""
    from defectdesk.ledger.words import event_title

    return event_title(str(kind))


@register.filter
def code_text(code: Any) -> str:
    """A ledger code (outcome, reason, scan status) in words."""
    from defectdesk.ledger.words import code_label

    return code_label(code)


@register.filter
def dispute_text(dispute: Any) -> str:
    """A frozen claim or chargeback as a sentence: filed when, why, for how much, and decisions."""
    from defectdesk.ledger.words import code_label

    if not isinstance(dispute, dict):
        return "—"
    parts = [_("filed %(when)s") % {"when": isotime(dispute.get("filed_at"))}]
    if dispute.get("reason"):
        parts.append(_("reason: %(reason)s") % {"reason": code_label(dispute["reason"])})
    if dispute.get("amount"):
        parts.append(_("amount %(amount)s") % {"amount": dispute["amount"]})
    for decision in dispute.get("decisions") or []:
        if isinstance(decision, dict):
            parts.append(f"{code_label(decision.get('outcome'))} {isotime(decision.get('at'))}")
    return "; ".join(parts)


@register.filter
def action_label(action: Any) -> str:
    """An audited appeal action in words ("appeal.submit" reads "Submitted")."""
    from defectdesk.web.appeals import ACTION_TITLES

    found = ACTION_TITLES.get(str(action))
    return str(found) if found is not None else str(action)


@register.filter
def status_label(status: Any) -> str:
    """An appeal state in words ("in_review" reads "In review"); "—" when empty."""
    from defectdesk.appeals.transitions import Status

    if not status:
        return "—"
    return str(Status(status).label) if status in Status.values else str(status)


FACT_LABELS: dict[str, Any] = {
    "dispute": gettext_lazy("Claim or chargeback"),
    "dispute_reason": gettext_lazy("Its reason"),
    "filed_at": gettext_lazy("Filed"),
    "delivered_at": gettext_lazy("Delivered"),
    "refund_at": gettext_lazy("Refunded"),
    "refund_amount": gettext_lazy("Refund amount"),
    "ship_by": gettext_lazy("Ship by"),
    "first_scan_at": gettext_lazy("First carrier scan"),
    "fulfillment": gettext_lazy("Fulfilment"),
}


@register.filter
def rule_label(rule: Any) -> str:
    """An automatic rule's name in words."""
    from defectdesk.console.operator_views import RULE_LABELS

    return str(RULE_LABELS.get(str(rule), str(rule).replace("_", " ")))


@register.filter
def fact_rows(facts: Any) -> list[tuple[str, str]]:
    """A rule's facts as (label, words) rows, without the ledger's event ids."""
    from defectdesk.ledger.words import code_label

    if not isinstance(facts, dict):
        return []
    rows = []
    for key, value in facts.items():
        if key == "event" or key.endswith("_event"):
            continue
        label = str(FACT_LABELS.get(key, key.replace("_", " ").capitalize()))
        if key.endswith("_at") or key == "ship_by":
            text = isotime(value)
        elif isinstance(value, bool):
            text = _("yes") if value else _("no")
        else:
            text = code_label(value) if key in ("dispute_reason", "fulfillment") else str(value)
        rows.append((label, text if value not in (None, "") else "—"))
    return rows


@register.filter
def actor_text(label: Any) -> str:
    """Who acted, in words: an automatic rule by its name rather than its code."""
    text = str(label or "")
    if text.startswith("rule:"):
        return _("the rule “%(rule)s”") % {"rule": rule_label(text.removeprefix("rule:"))}
    return text
