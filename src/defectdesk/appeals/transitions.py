"""The appeal states and the transitions between them (DESIGN §6), as a table."""

from __future__ import annotations

from django.db import models

from defectdesk.core.errors import InvalidTransition


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    INFO_REQUESTED = "info_requested", "Information requested"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = frozenset({Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED})
DECIDED_STATUSES = frozenset({Status.APPROVED, Status.DENIED})
FINAL_STATUSES = frozenset({Status.APPROVED, Status.DENIED, Status.WITHDRAWN})
# Awaiting a reviewer: what the review queue shows.
REVIEW_STATUSES = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED})

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED, Status.WITHDRAWN}),
    # A rule may approve at submission; a reviewer picks it up into review.
    Status.SUBMITTED: frozenset({Status.IN_REVIEW, Status.APPROVED, Status.WITHDRAWN}),
    Status.IN_REVIEW: frozenset(
        {Status.INFO_REQUESTED, Status.APPROVED, Status.DENIED, Status.WITHDRAWN}
    ),
    # A reply returns it to review; the deadline (or a reviewer) denies it.
    Status.INFO_REQUESTED: frozenset(
        {Status.IN_REVIEW, Status.APPROVED, Status.DENIED, Status.WITHDRAWN}
    ),
    Status.APPROVED: frozenset(),
    Status.DENIED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}


def transition_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def transition_check(current: str, target: str, *, verb: str) -> None:
    """Raise InvalidTransition (409) when the table does not allow current -> target."""
    if transition_allowed(current, target):
        return
    label = Status(current).label.lower() if current in Status.values else current
    if current in DECIDED_STATUSES:
        detail = f"The appeal was already decided ({label}); it cannot be {verb}."
    elif current == Status.WITHDRAWN:
        detail = f"The appeal was withdrawn; it cannot be {verb}."
    else:
        detail = f"An appeal that is {label} cannot be {verb}."
    raise InvalidTransition(detail)
