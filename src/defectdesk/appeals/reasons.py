"""The catalogue of appeal reasons per defect kind, with the evidence that helps each (pure)."""

from __future__ import annotations

from defectdesk.policy.kinds import DEFECT_KINDS, Reason

# The reasons of every kind (declared with the kind in policy/kinds.py).
CATALOGUE: dict[str, tuple[Reason, ...]] = {
    code: kind.reasons for code, kind in DEFECT_KINDS.items()
}


def reasons_for(kind: str) -> tuple[Reason, ...]:
    """The reasons a merchant may choose for a defect of this kind (empty for an unknown kind),
    worded in the active language."""
    return tuple(Reason(r.code, str(r.label), str(r.guidance)) for r in CATALOGUE.get(kind, ()))


def reason_lookup(kind: str, code: str) -> Reason | None:
    """The reason `code` for this kind, or None when the kind does not offer it (only that
    reason is worded in the active language: the review queue looks one up per row)."""
    for reason in CATALOGUE.get(kind, ()):
        if reason.code == code:
            return Reason(reason.code, str(reason.label), str(reason.guidance))
    return None
