"""The appeal rules of DESIGN §6 as data: a pure dataclass with the default profile.

A marketplace may override any rule with an `AppealPolicy` row (see appeals.policy);
whatever a row leaves empty falls back to these defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from defectdesk.policy.kinds import DEFECT_KINDS

RULE_MODES = ("approve", "recommend", "off")

DEFAULT_FILING_WINDOW_DAYS: dict[str, int] = {
    code: kind.filing_window_days for code, kind in DEFECT_KINDS.items()
}

DEFAULT_AUTO_RULES: dict[str, str] = {
    "fulfilled_by_marketplace": "approve",
    "refund_before_claim": "approve",
    "delivered_before_claim": "recommend",
    "scan_before_ship_by": "recommend",
}

DEFAULT_ALLOWED_TYPES: tuple[str, ...] = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "text/plain",
)


@dataclass(frozen=True, slots=True)
class AppealRules:
    """Every appeal rule in force for one marketplace."""

    filing_window_days: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_FILING_WINDOW_DAYS)
    )
    seller_funded_claim_window_days: int = 30
    fallback_window_days: int = 30
    max_appeals_per_defect: int = 2
    explanation_min: int = 30
    explanation_max: int = 4000
    message_max: int = 4000
    max_files: int = 10
    max_file_bytes: int = 10 * 1024 * 1024
    allowed_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES
    review_hours: int = 48
    info_hours: int = 72
    auto_rules: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_AUTO_RULES))
    approval_note_required: bool = False

    def window_for(self, kind: str) -> timedelta:
        return timedelta(days=self.filing_window_days.get(kind, self.fallback_window_days))

    @property
    def review_period(self) -> timedelta:
        return timedelta(hours=self.review_hours)

    @property
    def info_period(self) -> timedelta:
        return timedelta(hours=self.info_hours)

    def mode_of(self, rule: str) -> str:
        return self.auto_rules.get(rule, "off")
