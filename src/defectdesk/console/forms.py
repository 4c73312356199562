"""The reviewer and operator pages' input: one form per page, parsing query strings and posts.

As in `web.forms`: a form turns what was typed into values and names each bad one by its
field; the action behind the page keeps the business rules, its refusal is shown on the form.
(The marketplace policy form is parsed by `operator_views.policy_form_parse`.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from defectdesk.accounts.models import Seller
from defectdesk.appeals.reasons import CATALOGUE
from defectdesk.appeals.transitions import REVIEW_STATUSES
from defectdesk.console.explain import DENIAL_LABELS
from defectdesk.console.queue import QueueFilters
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import StripeDispute
from defectdesk.web.forms import (
    CheckField,
    CodesField,
    IsoDateField,
    PageForm,
    PageNumberForm,
    TextField,
)

STATS_DAYS = 30
STATS_MOST_DAYS = 366
QUEUE_SEARCH_MOST = 100
USER_KINDS = ("reviewer", "operator", "seller")


# -- reviewer pages -------------------------------------------------------------------------


class QueueFilterForm(PageNumberForm):
    """The queue's filters; an unknown value is refused by name (the page is a 422)."""

    status = TextField()
    kind = TextField()
    reason = TextField()
    assigned = TextField()
    overdue = CheckField()
    recommended = CheckField()
    q = TextField()

    def clean_status(self) -> str:
        status: str = self.cleaned_data.get("status") or ""
        if status and status not in REVIEW_STATUSES:
            raise ValidationError(
                f"{status[:40]!r} is not an open status; choose one of "
                + ", ".join(sorted(REVIEW_STATUSES))
            )
        return status

    def clean_kind(self) -> str:
        kind: str = self.cleaned_data.get("kind") or ""
        if kind and kind not in Defect.Kind.values:
            raise ValidationError(f"{kind[:40]!r} is not a defect kind")
        return kind

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data.get("reason") or ""
        known = {r.code for reasons in CATALOGUE.values() for r in reasons}
        if reason and reason not in known:
            raise ValidationError(f"{reason[:40]!r} is not an appeal reason")
        return reason

    def clean_q(self) -> str:
        q: str = self.cleaned_data.get("q") or ""
        if len(q) > QUEUE_SEARCH_MOST:
            raise ValidationError(f"search for at most {QUEUE_SEARCH_MOST} characters")
        return q

    @property
    def refused(self) -> dict[str, str]:
        """The filters refused (a bad page number only shows the first page)."""
        return {k: v for k, v in self.error_map().items() if k != "page"}

    def filters(self) -> QueueFilters:
        """The filters to apply: none at all when any is refused."""
        if self.refused:
            return QueueFilters()
        data = self.cleaned_data
        return QueueFilters(
            status=data["status"],
            kind=data["kind"],
            reason=data["reason"],
            assigned=data["assigned"],
            overdue=data["overdue"],
            recommended=data["recommended"],
            q=data["q"],
        )


class StatsForm(PageForm):
    """How many days the statistics cover: 1 to 366 (30 when not given)."""

    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=STATS_MOST_DAYS,
        error_messages={
            key: f"must be a whole number of days from 1 to {STATS_MOST_DAYS}"
            for key in ("invalid", "min_value", "max_value")
        },
    )

    def clean_days(self) -> int:
        if str(self.data.get("days", STATS_DAYS)).strip() == "":
            raise ValidationError(f"must be a whole number of days from 1 to {STATS_MOST_DAYS}")
        found: int | None = self.cleaned_data.get("days")
        return STATS_DAYS if found is None else found


class DecisionForm(PageForm):
    """A reviewer's decision; a denial needs its reason and a note to the merchant."""

    decision = TextField()
    note = TextField()
    deny_reason = TextField()
    seen = TextField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "deny":
            if "deny_reason" in data and data["deny_reason"] not in DENIAL_LABELS:
                self.add_error("deny_reason", _("choose the reason of the denial"))
            if "note" in data and not data["note"]:
                self.add_error("note", _("write a note to the merchant"))
        return data


class RequestInfoForm(PageForm):
    question = TextField(strip=False)
    seen = TextField()


class FileForm(PageForm):
    """How a merchant's file is served: inline when it is an image, unless download=1."""

    download = TextField()

    @property
    def wanted(self) -> bool:
        return bool(self.value("download") == "1")


class AssignForm(PageForm):
    reviewer = TextField()
    next = TextField()


# -- operator pages -------------------------------------------------------------------------


class MarketplaceForm(PageForm):
    code = TextField()
    name = TextField()
    timezone = TextField()
    currency = TextField()


class OperatorUserForm(PageForm):
    """A new user: a reviewer, an operator, or a seller's user with a role."""

    username = TextField()
    email = TextField()
    kind = TextField()
    seller = TextField()
    seller_role = TextField()
    password = TextField(strip=False)

    def clean_kind(self) -> str:
        kind: str = self.cleaned_data.get("kind") or ""
        if kind not in USER_KINDS:
            raise ValidationError(_("choose reviewer, operator or a seller's user"))
        return kind

    def clean_username(self) -> str:
        name: str = self.cleaned_data.get("username") or ""
        if name and get_user_model().objects.filter(username=name).exists():
            raise ValidationError(_("%(name)r is taken") % {"name": name})
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seller = data.get("seller", "")
        wanted = data.get("kind") == "seller" and "seller" not in self.errors
        if wanted and not Seller.objects.filter(external_id=seller).exists():
            self.add_error("seller", _("no seller %(id)r") % {"id": seller})
        return data


class UserRolesForm(PageForm):
    reviewer = CheckField()
    operator = CheckField()


class OperatorTokenForm(PageForm):
    name = TextField()
    seller = TextField()
    read_only = CheckField()
    scope = CodesField()


class WebhookEndpointForm(PageForm):
    url = TextField(strip=False)
    description = TextField(strip=False)
    event_types = CodesField()


class AuditFilterForm(PageNumberForm):
    """The audit log's filters: who, which seller or appeal, which action, between which days."""

    actor = TextField()
    seller = TextField()
    appeal = TextField()
    action = TextField()
    from_ = IsoDateField(invalid="must be a date as YYYY-MM-DD, not %(value)r")
    to = IsoDateField(invalid="must be a date as YYYY-MM-DD, not %(value)r")

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        # "from" is a Python keyword: the field is declared as from_ and read as "from".
        self.fields["from"] = self.fields.pop("from_")

    def clean_appeal(self) -> str:
        appeal: str = self.cleaned_data.get("appeal") or ""
        if appeal and not (appeal.isdigit() and len(appeal) < 19):
            raise ValidationError("must be an appeal number")
        return appeal

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first: date | None = data.get("from")
        last: date | None = data.get("to")
        if first and last and first > last:
            self.add_error("from", "is after to")
        return data

    @property
    def refused(self) -> dict[str, str]:
        return {k: v for k, v in self.error_map().items() if k != "page"}


class StripeFilterForm(PageNumberForm):
    """The disputes in one state (an unknown state shows them all)."""

    state = TextField()

    @property
    def state_shown(self) -> str:
        state: str = self.value("state", "")
        return state if state in StripeDispute.State.values else ""
