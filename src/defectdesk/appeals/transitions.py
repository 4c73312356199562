"""The appeal states and the transitions between them (DESIGN §6), as a table."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from defectdesk.core.errors import InvalidTransition
from defectdesk.core.language import in_sentence


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    INFO_REQUESTED = "info_requested", _("Information requested")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The verbs of transition_check's refusals ("... it cannot be <verb>"), for translation.
VERBS = {
    "answered": _("answered"),
    "assigned": _("assigned"),
    "decided": _("decided"),
    "picked up": _("picked up"),
    "sent an information request": _("sent an information request"),
    "submitted": _("submitted"),
    "withdrawn": _("withdrawn"),
}

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
    label = in_sentence(Status(current).label) if current in Status.values else current
    done = str(VERBS.get(verb, verb))
    if current in DECIDED_STATUSES:
        detail = gettext("The appeal was already decided (%(status)s); it cannot be %(verb)s.")
    elif current == Status.WITHDRAWN:
        detail = gettext("The appeal was withdrawn; it cannot be %(verb)s.")
    else:
        detail = gettext("An appeal that is %(status)s cannot be %(verb)s.")
    raise InvalidTransition(detail % {"status": label, "verb": done})
