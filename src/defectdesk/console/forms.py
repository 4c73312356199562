"""The reviewer and operator pages' input: one form per page, parsing query strings and posts.

As in `web.forms`: a form turns what was typed into values and names each bad one by its
field; the action behind the page keeps the business rules, its refusal is shown on the form.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from defectdesk.accounts.models import Seller
from defectdesk.appeals.policy import appeal_policy_errors
from defectdesk.appeals.reasons import CATALOGUE
from defectdesk.appeals.rules_policy import (
    DEFAULT_AUTO_RULES,
    DEFAULT_FILING_WINDOW_DAYS,
    AppealRules,
)
from defectdesk.appeals.transitions import REVIEW_STATUSES
from defectdesk.console.explain import DENIAL_LABELS
from defectdesk.console.queue import QueueFilters
from defectdesk.core.errors import FieldError
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import StripeDispute
from defectdesk.policy.profile import METRICS, profile_complete, profile_errors
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


class SentTextField(forms.Field):
    """A policy setting as sent, parsed by `parse`; None when it was not sent at all (the value
    in force is kept). As text, a choice checked by the policy's own rules."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(required=False, **kw)

    def to_python(self, value: Any) -> Any:
        return None if value is None else self.parse(str(value))

    def parse(self, text: str) -> Any:
        return text


class WholeNumberField(SentTextField):
    """A whole number as typed."""

    def parse(self, text: str) -> int:
        text = text.strip()
        try:
            return int(text)
        except ValueError:
            raise ValidationError(
                f"must be a whole number, not {text[:40]!r}", code="invalid"
            ) from None


class FractionField(SentTextField):
    """A finite number as typed (a target such as 0.01)."""

    def parse(self, text: str) -> float:
        text = text.strip()
        try:
            number = Decimal(text)
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise ValidationError(
                f"must be a number from 0 to 1, not {text[:40]!r}", code="invalid"
            ) from None
        return float(number)


RESPONSE_METRIC = "contact_response_rate"
METRIC_SETTINGS = ("window_days", "lag_days", "target", "condition")
POLICY_SECTIONS = ("metrics.", "filing_window_days.", "auto_rules.")


class PolicyForm(PageForm):
    """A marketplace policy edit: the metrics' windows, lags, conditions and targets, the contact
    response deadline, the appeal filing windows, deadlines and automatic rule modes.

    A setting not sent keeps its value in force (a post of none saves the policy as it is; the
    checkbox, unsent, is off). A name in the
    policy's sections that it does not know (a metric, a defect kind, a rule) is refused by name,
    and the complete profile and appeal edit are checked by the policy's own rules, so that the
    action receives a valid edit (`profile`, `appeal`) or nothing."""

    action = TextField()
    approval_note_required = CheckField()

    def __init__(
        self, data: Any = None, *, profile: dict[str, Any], rules: AppealRules, **kw: Any
    ) -> None:
        super().__init__(data, **kw)
        self.current_profile = profile
        self.current_rules = rules
        self.profile: dict[str, Any] = {}
        self.appeal: dict[str, Any] = {}
        parsers = {"window_days": WholeNumberField, "lag_days": WholeNumberField}
        for name in METRICS:
            for key in METRIC_SETTINGS:
                field = parsers.get(key, FractionField if key == "target" else SentTextField)
                self.fields[f"metrics.{name}.{key}"] = field()
        self.fields[f"metrics.{RESPONSE_METRIC}.response_hours"] = WholeNumberField()
        for kind in DEFAULT_FILING_WINDOW_DAYS:
            self.fields[f"filing_window_days.{kind}"] = WholeNumberField()
        for key in ("review_hours", "info_hours"):
            self.fields[key] = WholeNumberField()
        for rule in DEFAULT_AUTO_RULES:
            self.fields[f"auto_rules.{rule}"] = SentTextField()

    def shown(self) -> dict[str, str]:
        """Every setting as the page shows it: what was sent, else the value in force."""
        profile, rules = self.current_profile, self.current_rules
        values: dict[str, str] = {}
        for name in METRICS:
            for key in METRIC_SETTINGS:
                values[f"metrics.{name}.{key}"] = str(profile["metrics"][name][key])
        response = profile["metrics"][RESPONSE_METRIC].get("response_hours", 24)
        values[f"metrics.{RESPONSE_METRIC}.response_hours"] = str(response)
        for kind in DEFAULT_FILING_WINDOW_DAYS:
            values[f"filing_window_days.{kind}"] = str(rules.filing_window_days.get(kind, ""))
        values["review_hours"] = str(rules.review_hours)
        values["info_hours"] = str(rules.info_hours)
        values["approval_note_required"] = "on" if rules.approval_note_required else ""
        for rule in DEFAULT_AUTO_RULES:
            values[f"auto_rules.{rule}"] = rules.mode_of(rule)
        if self.is_bound:
            values.update({k: str(self.data.get(k, "")) for k in values if k in self.data})
            values["approval_note_required"] = str(self.data.get("approval_note_required", ""))
        return values

    @property
    def previewed(self) -> bool:
        return bool(self.value("action") == "preview")

    def _unknown_names(self) -> list[FieldError]:
        """The posted names in the policy's sections that it does not know, each named."""
        errors: list[FieldError] = []
        for key in self.data:
            if key in self.fields or not key.startswith(POLICY_SECTIONS):
                continue
            section, _dot, rest = key.partition(".")
            name = rest.split(".")[0]
            if section == "metrics" and name not in METRICS:
                known = ", ".join(METRICS)
                errors.append(FieldError(key, f"unknown metric {name!r}; known: {known}"))
            elif section == "filing_window_days":
                known = ", ".join(DEFAULT_FILING_WINDOW_DAYS)
                errors.append(FieldError(key, f"unknown defect kind {name!r}; known: {known}"))
            elif section == "auto_rules":
                known = ", ".join(DEFAULT_AUTO_RULES)
                errors.append(FieldError(key, f"unknown automatic rule {name!r}; known: {known}"))
            else:
                errors.append(FieldError(key, "unknown setting"))
        return errors

    def _sent(self, name: str) -> Any:
        """A setting's parsed value; None when it was not sent or is not valid."""
        return None if name in self.errors else self.cleaned_data.get(name)

    def _edit(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The complete metrics profile and the appeal policy edit, from what was sent."""
        profile = copy.deepcopy(self.current_profile)
        for name in METRICS:
            spec = profile["metrics"][name]
            for key in (*METRIC_SETTINGS, "response_hours"):
                value = self._sent(f"metrics.{name}.{key}")
                if value is not None:
                    spec[key] = value
        appeal: dict[str, Any] = {"filing_window_days": {}, "hours": {}, "auto_rules": {}}
        for kind in DEFAULT_FILING_WINDOW_DAYS:
            value = self._sent(f"filing_window_days.{kind}")
            if value is not None:
                appeal["filing_window_days"][kind] = value
        for key in ("review_hours", "info_hours"):
            if self._sent(key) is not None:
                appeal["hours"][key] = self._sent(key)
        for rule in DEFAULT_AUTO_RULES:
            if self._sent(f"auto_rules.{rule}") is not None:
                appeal["auto_rules"][rule] = self._sent(f"auto_rules.{rule}")
        return profile, appeal

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        profile, appeal = self._edit()
        errors = self._unknown_names()
        errors += profile_errors(profile_complete(profile))
        errors += appeal_policy_errors(**appeal)
        for err in errors:
            if err.field in self.fields:
                self.add_error(err.field, err.message)
            else:
                self.add_error(None, f"{err.field}: {err.message}")
        appeal["approval_note_required"] = bool(data.get("approval_note_required"))
        self.profile, self.appeal = profile, appeal
        return data
