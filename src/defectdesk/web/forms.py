"""The Seller Center's page input: one form per page, parsing query strings and posts.

A form turns what was typed into values (text, numbers, dates, choices) and names each bad
value by its field; the action behind the page keeps the business rules, and its refusal is
shown on the same form (`PageForm.refuse`). Nothing here reads or writes the database.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from defectdesk.core.errors import DomainError, FieldError, ValidationFailed
from defectdesk.core.language import language_codes, language_supported
from defectdesk.core.timeutil import zone
from defectdesk.metrics.health import parse_day
from defectdesk.web.orderquery import (
    FULFILMENTS,
    KINDS,
    MAX_QUERY,
    SORTS,
    STATUSES,
    OrderFilters,
)

TRUE_WORDS = ("1", "true", "on")


class PageForm(forms.Form):
    """A page's form: its own field errors and the refusals of the action behind it, together,
    as the templates show them ({field: [messages]}, "" for the form as a whole)."""

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self._refusals: dict[str, list[str]] = {}

    def refuse(self, exc: DomainError) -> None:
        """Show an action's refusal: each message under the field it names."""
        for err in exc.errors:
            self._refusals.setdefault(err.field, []).append(err.message)
        if not exc.errors:
            self._refusals.setdefault("", []).append(exc.detail)

    def refusal(self, detail: str) -> ValidationFailed:
        """The form's errors as the refusal an action would raise (a 422), for pages that
        show both the same way."""
        found = self.error_lists()
        return ValidationFailed(detail, [FieldError(k, m) for k, ms in found.items() for m in ms])

    def error_lists(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        if self.is_bound:
            for name, shown in self.errors.items():
                key = "" if name == NON_FIELD_ERRORS else name
                found.setdefault(key, []).extend(str(m) for m in shown)
        for name, refused in self._refusals.items():
            found.setdefault(name, []).extend(refused)
        return found

    def error_map(self) -> dict[str, str]:
        """One message per field (the last), as the console's pages show them."""
        return {name: messages[-1] for name, messages in self.error_lists().items() if messages}

    def typed(self, *names: str) -> dict[str, str]:
        """What was typed in these fields, stripped, to fill the form in again."""
        data = self.data if self.is_bound else {}
        return {name: str(data.get(name, "") or "").strip() for name in names}

    def value(self, name: str, default: Any = None) -> Any:
        """A field's parsed value, or the default when it was missing or not valid."""
        if not self.is_valid() and name in self.errors:
            return default
        found = self.cleaned_data.get(name)
        return default if found is None else found


class TextField(forms.CharField):
    """Text as typed (never required: the action says what is missing, in its own words);
    NUL characters are refused by Django's CharField."""

    def __init__(self, *, max_length: int | None = None, strip: bool = True, **kw: Any) -> None:
        super().__init__(required=False, max_length=max_length, strip=strip, **kw)


class CheckField(forms.BooleanField):
    """A checkbox: on when sent as 1, true or on."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(required=False, **kw)

    def to_python(self, value: Any) -> bool:
        return str(value or "").strip().lower() in TRUE_WORDS


class CodesField(forms.Field):
    """Every value sent under one name (a multiple select, repeated checkboxes), as text."""

    widget = forms.SelectMultiple

    def __init__(self, **kw: Any) -> None:
        super().__init__(required=False, **kw)

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        out = [str(v) for v in values]
        if any("\x00" in v for v in out):
            raise ValidationError(_("Null characters are not allowed."), code="null_characters")
        return out


class IsoDateField(forms.Field):
    """A day as YYYY-MM-DD; anything else (2026-13-45, text) is refused with `invalid`."""

    def __init__(self, *, invalid: Any, **kw: Any) -> None:
        super().__init__(required=False, **kw)
        self.invalid = invalid  # a message with %(value)s, translated when shown

    def to_python(self, value: Any) -> date | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationError(self.invalid % {"value": text[:40]}, code="invalid") from None


class PageNumberForm(PageForm):
    """A list's page number; a bad one shows the first page (Django's `get_page`)."""

    page = forms.IntegerField(required=False)

    @property
    def page_number(self) -> int | None:
        found: int | None = self.value("page")
        return found


class OrderFilterForm(PageNumberForm):
    """The order list's search, filters and sort; a bad value is ignored and named."""

    q = TextField()
    problem = CheckField()
    kind = CodesField()
    status = TextField()
    fulfillment = TextField()
    sort = TextField()
    from_ = IsoDateField(invalid=gettext_lazy("“%(value)s” is not a date; use YYYY-MM-DD."))
    to = IsoDateField(invalid=gettext_lazy("“%(value)s” is not a date; use YYYY-MM-DD."))

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        # "from" is a Python keyword: the field is declared as from_ and read as "from".
        self.fields["from"] = self.fields.pop("from_")

    def clean_q(self) -> str:
        q = str(self.cleaned_data.get("q") or "")
        if len(q) > MAX_QUERY:
            raise ValidationError(
                _("The search is too long (at most %(n)d characters).") % {"n": MAX_QUERY}
            )
        return q

    def clean_kind(self) -> list[str]:
        kinds = [k for k in self.cleaned_data.get("kind") or [] if k]
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValidationError(
                _("Unknown defect kind: %(kinds)s.") % {"kinds": ", ".join(unknown)[:80]}
            )
        return kinds

    def clean_status(self) -> str:
        status = str(self.cleaned_data.get("status") or "")
        if status and status not in STATUSES:
            raise ValidationError(_("Unknown status."))
        return status

    def clean_fulfillment(self) -> str:
        channel = str(self.cleaned_data.get("fulfillment") or "")
        if channel and channel not in FULFILMENTS:
            raise ValidationError(_("Unknown fulfilment channel."))
        return channel

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("from"), data.get("to")
        if first and last and first > last:
            self.add_error("to", _("The end date is before the start date."))
        return data

    def filters(self) -> OrderFilters:
        """The filters to apply: the valid ones; a too long search cut, known kinds kept."""
        self.is_valid()
        kinds = self.value("kind")
        if kinds is None:
            sent = self.data.getlist("kind") if isinstance(self.data, QueryDict) else []
            kinds = [k for k in sent if k in KINDS]
        q = self.value("q")
        if q is None:
            q = str(self.data.get("q", "")).replace("\x00", "").strip()[:MAX_QUERY]
        sort = self.value("sort", "-placed")
        errors = {name: msgs[-1] for name, msgs in self.error_lists().items() if name != "page"}
        return OrderFilters(
            q=q,
            problem=bool(self.value("problem", False)),
            kinds=kinds,
            status=self.value("status", ""),
            date_from=self.value("from"),
            date_to=self.value("to") if "to" not in errors else None,
            fulfillment=self.value("fulfillment", ""),
            sort=sort if sort in SORTS else "-placed",
            errors=errors,
        )


class AsOfForm(PageNumberForm):
    """The day a health page shows ("as of"): YYYY-MM-DD, not after the marketplace's today."""

    as_of = TextField()

    def __init__(self, data: Any = None, *, today: date, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.today = today

    def clean_as_of(self) -> date:
        from defectdesk.core.errors import BadRequest

        try:
            return parse_day(self.cleaned_data.get("as_of"), "as_of", self.today, self.today)
        except BadRequest as exc:
            raise ValidationError(" ".join([str(exc), *(e.message for e in exc.errors)])) from None

    @property
    def day(self) -> date:
        found: date = self.value("as_of", self.today)
        return found


class MetricListForm(AsOfForm):
    """A metric's list: which part (numerator, denominator, a component, a channel), as of when.

    Whether the part exists in this marketplace's policy is the metric selector's to say."""

    part = TextField()
    component = TextField()
    channel = TextField()


class AppealListForm(PageNumberForm):
    tab = TextField()

    def tab_of(self, tabs: Any) -> str:
        tab = self.value("tab", "") or "action"
        return tab if tab in tabs else "action"


class SellerSearchForm(PageForm):
    q = TextField()

    def clean_q(self) -> str:
        return str(self.cleaned_data.get("q") or "")[:100]


class NotificationReadForm(PageForm):
    all = CheckField()
    id = CodesField()

    def clean_id(self) -> list[int]:
        return [int(v) for v in self.cleaned_data.get("id") or [] if v.isdigit() and len(v) < 19]


class ConfirmForm(PageForm):
    """A confirmation page's answer: only "yes" goes ahead."""

    confirm = TextField()

    @property
    def confirmed(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data.get("confirm") == "yes")


class OrderReplyForm(PageForm):
    """A reply to the buyer; how long it may be is the messaging action's rule."""

    body = TextField(strip=False)


class AppealReplyForm(PageForm):
    message = TextField(strip=False)


class InvitationForm(PageForm):
    # A NUL is refused as any other bad address is, in the invitation action's words.
    email = TextField(
        error_messages={
            "null_characters_not_allowed": "must be an e-mail address, such as ann@example.com"
        }
    )
    role = TextField()

    def clean_email(self) -> str:
        return str(self.cleaned_data.get("email") or "")[:254]


class InvitationAcceptForm(PageForm):
    """Join a seller: a new user name and password, or (signed in) nothing but the button."""

    username = TextField()
    password1 = TextField(strip=False)
    password2 = TextField(strip=False)

    def __init__(self, data: Any = None, *, signed_in: bool, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.signed_in = signed_in

    def clean_username(self) -> str:
        return str(self.cleaned_data.get("username") or "")[:150]

    def error_lists(self) -> dict[str, list[str]]:
        # The page shows the first password's messages as the action names them: "password".
        found = super().error_lists()
        if "password1" in found:
            found.setdefault("password", []).extend(found.pop("password1"))
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.signed_in and data.get("password1", "") != data.get("password2", ""):
            self.add_error("password2", _("the two passwords differ"))
        return data


class TokenForm(PageForm):
    name = TextField()
    read_only = CheckField()

    def clean_name(self) -> str:
        return str(self.cleaned_data.get("name") or "")[:100]


class MarketplaceSwitchForm(PageForm):
    marketplace = TextField(strip=False)
    next = TextField(strip=False)


class TimeZoneForm(forms.Form):
    """The zone the user's pages show times in (empty: each marketplace's own)."""

    time_zone = forms.CharField(
        label=gettext_lazy("Time zone"),
        required=False,
        max_length=64,
        help_text=gettext_lazy(
            "An IANA name such as Asia/Shanghai. Leave empty to see each marketplace's own zone."
        ),
    )

    def clean_time_zone(self) -> str:
        name = str(self.cleaned_data.get("time_zone") or "").strip()
        if name:
            try:
                zone(name)
            except ValueError:
                raise ValidationError(
                    _("%(name)s is not a known time zone; use a name such as America/Los_Angeles.")
                    % {"name": repr(name[:64])}
                ) from None
        return name


class LanguageForm(forms.Form):
    """The language of the user's pages (empty: the browser's or the marketplace's)."""

    language = forms.CharField(label=gettext_lazy("Language"), required=False, max_length=32)

    def clean_language(self) -> str:
        code = str(self.cleaned_data.get("language") or "").strip()
        if code and not language_supported(code):
            raise ValidationError(
                _("%(name)s is not a language of DefectDesk; choose one of %(codes)s.")
                % {"name": repr(code[:32]), "codes": ", ".join(language_codes())}
            )
        return language_supported(code) if code else ""
