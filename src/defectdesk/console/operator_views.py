"""Operator pages: marketplaces, policy with a preview, users and roles, tokens, the audit log.

Thin views: every change goes through the owning app's action, which writes the audit event.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from defectdesk.accounts.actions import staff_roles_set, token_create, token_revoke, user_create
from defectdesk.accounts.models import ApiToken, Membership, StaffRole
from defectdesk.appeals.actions import actor_of
from defectdesk.appeals.policy import appeal_rules_for, marketplace_policy_set
from defectdesk.appeals.rules_policy import (
    DEFAULT_AUTO_RULES,
    DEFAULT_FILING_WINDOW_DAYS,
    RULE_MODES,
)
from defectdesk.console.access import console_principal, operator_page
from defectdesk.console.access import see_other as _see_other
from defectdesk.console.forms import (
    AuditFilterForm,
    MarketplaceForm,
    OperatorTokenForm,
    OperatorUserForm,
    PolicyForm,
    UserRolesForm,
)
from defectdesk.console.health import account_statuses, marketplace_today
from defectdesk.console.posts import field_errors, form_post
from defectdesk.console.preview import StatusChanges, policy_preview, status_changes
from defectdesk.core.actors import Actor
from defectdesk.core.errors import DomainError, NotFound
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.ledger.actions import marketplace_set
from defectdesk.ledger.models import Marketplace
from defectdesk.policy.metrics import metric_label
from defectdesk.policy.profile import METRICS
from defectdesk.policy.selectors import policy_for, policy_replay_latest
from defectdesk.web.forms import ConfirmForm

AUDIT_PAGE_SIZE = 100
RULE_LABELS: dict[str, Any] = {
    "fulfilled_by_marketplace": gettext_lazy("Feedback on a marketplace-fulfilled order"),
    "refund_before_claim": gettext_lazy("Refund issued before the claim was filed"),
    "delivered_before_claim": gettext_lazy("Delivery scanned before a not-received claim"),
    "scan_before_ship_by": gettext_lazy("First carrier scan before ship-by"),
}
MARKETPLACE_FIELDS: tuple[tuple[str, Any, Any], ...] = (
    ("code", gettext_lazy("Code"), gettext_lazy("Letters, digits, - or _; e.g. US")),
    ("name", gettext_lazy("Name"), ""),
    (
        "timezone",
        gettext_lazy("Time zone"),
        gettext_lazy("An IANA name such as America/Los_Angeles"),
    ),
    ("currency", gettext_lazy("Currency"), gettext_lazy("ISO 4217, e.g. USD")),
)
AUDIT_FIELDS: tuple[tuple[str, Any], ...] = (
    ("actor", gettext_lazy("Actor")),
    ("seller", gettext_lazy("Seller")),
    ("appeal", gettext_lazy("Appeal")),
    ("action", gettext_lazy("Action")),
    ("from", gettext_lazy("From")),
    ("to", gettext_lazy("To")),
)


def _nav(tab: str) -> dict[str, str]:
    return {"section": "operator", "tab": tab, "active": "operator"}


def _actor(request: HttpRequest) -> Actor:
    return actor_of(console_principal(request))


@operator_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "marketplaces": Marketplace.objects.count(),
        "users": get_user_model().objects.count(),
        "tokens": ApiToken.objects.filter(revoked_at__isnull=True).count(),
        "audit_events": AuditEvent.objects.select_related("seller").order_by("-occurred_at", "-id")[
            :10
        ],
        **_nav("home"),
    }
    return render(request, "console/operator_home.html", context)


# -- marketplaces --------------------------------------------------------------------------


@operator_page
@require_http_methods(["GET", "POST"])
def marketplaces(request: HttpRequest) -> HttpResponse:
    posted = MarketplaceForm(request.POST if request.method == "POST" else None)
    form = posted.typed("code", "name", "timezone", "currency") if posted.is_bound else {}

    def save(data: dict[str, Any]) -> tuple[Marketplace, bool]:
        return marketplace_set(
            actor=_actor(request),
            code=data["code"],
            timezone=data["timezone"],
            currency=data["currency"],
            name=data["name"] or None,
        )

    outcome = form_post(request, posted, _("The marketplace was not saved."), save)
    if outcome.done is not None:
        market, rebuild = outcome.done
        note = (
            " " + _("Its time zone changed: run `defectdesk rebuild` so order dates follow it.")
            if rebuild
            else ""
        )
        messages.success(request, _("Marketplace %(code)s saved.") % {"code": market.code} + note)
        return _see_other(reverse("operator_marketplaces"))
    context = {
        "markets": Marketplace.objects.all(),
        "form": form,
        "errors": outcome.errors,
        "fields": MARKETPLACE_FIELDS,
        **_nav("marketplaces"),
    }
    return render(request, "console/marketplaces.html", context, status=outcome.status)


# -- policy --------------------------------------------------------------------------------


def _market_or_404(code: str) -> Marketplace:
    market = Marketplace.objects.filter(code=code).first()
    if market is None:
        raise Http404(_("Marketplace %(code)r not found.") % {"code": code})
    return market


def _policy_form(market: Marketplace, post: Any | None = None) -> PolicyForm:
    return PolicyForm(
        post, profile=policy_for(market.pk).profile, rules=appeal_rules_for(market.pk)
    )


def _policy_context(market: Marketplace, form: PolicyForm) -> dict[str, Any]:
    return {
        "market": market,
        "values": form.shown(),
        "metrics": [(name, metric_label(name)) for name in METRICS],
        "kinds": [(kind, Defect.Kind(kind).label) for kind in DEFAULT_FILING_WINDOW_DAYS],
        "rules": [(rule, RULE_LABELS.get(rule, rule)) for rule in DEFAULT_AUTO_RULES],
        "modes": RULE_MODES,
        "errors": {},
        "form_errors": [],
        "preview": None,
        "replay": policy_replay_latest(market.pk),
        **_nav("marketplaces"),
    }


@operator_page
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest, code: str) -> HttpResponse:
    market = _market_or_404(code)
    if request.method == "GET" and request.GET.get("replay") == "status":
        # The progress box alone, which the page fetches every few seconds while it runs.
        replay = policy_replay_latest(market.pk)
        response = render(request, "console/_replay.html", {"replay": replay})
        response["Cache-Control"] = "no-store"
        return response
    if request.method == "GET":
        return render(request, "console/policy.html", _policy_context(market, _policy_form(market)))
    form = _policy_form(market, request.POST)
    context = _policy_context(market, form)
    if not form.is_valid():
        context["errors"] = form.error_map()
        context["form_errors"] = form.error_lists().get("", [])
        messages.error(request, _("The policy is not valid; nothing was saved."))
        return render(request, "console/policy.html", context, status=422)
    actor = _actor(request)
    profile, appeal = form.profile, form.appeal
    if form.previewed:
        try:
            context["preview"] = policy_preview(marketplace=market, profile=profile, actor=actor)
        except DomainError as exc:
            context["errors"] = field_errors(exc)
            return render(request, "console/policy.html", context, status=exc.status)
        return render(request, "console/policy.html", context)
    as_of = marketplace_today(market)
    before = account_statuses(market, as_of)
    try:
        change = marketplace_policy_set(
            actor=actor, marketplace=market, profile=profile, appeal=appeal
        )
    except DomainError as exc:
        context["errors"] = field_errors(exc)
        messages.error(request, exc.detail)
        return render(request, "console/policy.html", context, status=exc.status)
    if change.replay is not None:
        # The defect rules changed: the recompute runs as a job; the page shows its progress.
        messages.success(
            request,
            _(
                "Policy of %(code)s saved. Its defects and metrics are being recomputed from "
                "the ledger in the background; this page shows the progress."
            )
            % {"code": market.code},
        )
        return _see_other(reverse("operator_policy", args=[market.code]))
    changed: StatusChanges = status_changes(before, account_statuses(market, as_of), as_of)
    messages.success(
        request,
        ngettext(
            "Policy of %(code)s saved and history recomputed: %(n)s seller changed status "
            "as of %(day)s.",
            "Policy of %(code)s saved and history recomputed: %(n)s sellers changed status "
            "as of %(day)s.",
            changed.count,
        )
        % {"code": market.code, "n": changed.count, "day": as_of.isoformat()},
    )
    return _see_other(reverse("operator_policy", args=[market.code]))


# -- users and roles -----------------------------------------------------------------------


@operator_page
@require_http_methods(["GET", "POST"])
def users(request: HttpRequest) -> HttpResponse:
    posted = OperatorUserForm(request.POST if request.method == "POST" else None)
    shown = ("username", "email", "kind", "seller", "seller_role")  # never the password
    form = posted.typed(*shown) if posted.is_bound else {}

    def create(data: dict[str, Any]) -> Any:
        kind = data["kind"]
        return user_create(
            actor=_actor(request),
            username=data["username"],
            password=data["password"],
            email=data["email"],
            seller=data["seller"] if kind == "seller" else None,
            role=data["seller_role"] if kind == "seller" else None,
            reviewer=kind == "reviewer",
            operator=kind == "operator",
        )

    outcome = form_post(request, posted, _("The user was not created."), create)
    if outcome.done is not None:
        name = outcome.done.get_username()
        messages.success(request, _("User %(name)s created.") % {"name": name})
        return _see_other(reverse("operator_users"))
    people = list(get_user_model().objects.order_by("username")[:500])
    roles: dict[int, set[str]] = {}
    for user_id, role in StaffRole.objects.values_list("user_id", "role"):
        roles.setdefault(user_id, set()).add(role)
    sellers: dict[int, list[str]] = {}
    for user_id, seller, role in Membership.objects.values_list(
        "user_id", "seller__external_id", "role"
    ):
        sellers.setdefault(user_id, []).append(f"{seller} ({role})")
    rows = [
        {
            "user": u,
            "reviewer": "reviewer" in roles.get(u.pk, set()),
            "operator": "operator" in roles.get(u.pk, set()),
            "sellers": sellers.get(u.pk, []),
        }
        for u in people
    ]
    context = {
        "rows": rows,
        "form": form,
        "errors": outcome.errors,
        "seller_roles": Membership.Role.choices,
        **_nav("users"),
    }
    return render(request, "console/users.html", context, status=outcome.status)


@operator_page
@require_POST
def user_roles(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404(_("No such user."))
    form = UserRolesForm(request.POST)
    try:
        staff_roles_set(
            actor=_actor(request),
            user=user,  # type: ignore[arg-type]
            reviewer=form.value("reviewer", False),
            operator=form.value("operator", False),
        )
    except DomainError as exc:
        detail = "; ".join(e.message for e in exc.errors) or exc.detail
        messages.error(request, f"{exc.detail} ({detail})")
    else:
        messages.success(request, _("Roles of %(name)s saved.") % {"name": user.get_username()})
    return _see_other(reverse("operator_users"))


# -- tokens --------------------------------------------------------------------------------


@operator_page
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    posted = OperatorTokenForm(request.POST if request.method == "POST" else None)
    form: dict[str, Any] = {}
    if posted.is_bound:
        form = {
            **posted.typed("name", "seller"),
            "read_only": posted.value("read_only", False),
            "scopes": posted.value("scope", []),
        }

    def create(data: dict[str, Any]) -> tuple[ApiToken, str]:
        return token_create(
            actor=_actor(request),
            name=data["name"],
            seller=data["seller"] or None,
            read_only=data["read_only"],
            scopes=data["scope"],
        )

    outcome = form_post(request, posted, _("The token was not created."), create)
    context = {
        "tokens": ApiToken.objects.select_related("seller", "created_by")[:500],
        "form": {} if outcome.done is not None else form,
        "errors": outcome.errors,
        "created": outcome.done,
        "scopes": ApiToken.Scope.choices,
        **_nav("tokens"),
    }
    response = render(request, "console/tokens.html", context, status=outcome.status)
    response["Cache-Control"] = "no-store"
    return response


@operator_page
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    if not ConfirmForm(request.POST).confirmed:
        token = ApiToken.objects.filter(pk=token_id).first()
        if token is None:
            raise Http404(_("No such token."))
        return render(
            request,
            "console/confirm.html",
            {
                "confirm_title": _("Revoke the token “%(name)s”?") % {"name": token.name},
                "confirm_lines": [
                    _(
                        "Every program that uses it (prefix %(prefix)s…) stops working at once; "
                        "this cannot be undone."
                    )
                    % {"prefix": token.prefix}
                ],
                "confirm_action": reverse("operator_token_revoke", args=[token.pk]),
                "confirm_button": _("Yes, revoke it"),
                "cancel_url": reverse("operator_tokens"),
                **_nav("tokens"),
            },
        )
    try:
        token = token_revoke(actor=_actor(request), token_id=token_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    messages.success(
        request,
        _("Token %(name)s (%(prefix)s…) revoked.") % {"name": token.name, "prefix": token.prefix},
    )
    return _see_other(reverse("operator_tokens"))


# -- the audit log -------------------------------------------------------------------------


@operator_page
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.typed("actor", "seller", "appeal", "action", "from", "to")
    errors = form.refused
    qs = AuditEvent.objects.select_related("seller").order_by("-occurred_at", "-id")
    if filters["actor"]:
        qs = qs.filter(
            Q(actor__username=filters["actor"]) | Q(actor_label__icontains=filters["actor"])
        )
    if filters["seller"]:
        qs = qs.filter(seller__external_id=filters["seller"])
    if form.value("appeal"):
        qs = qs.filter(object_type="appeal", object_id=form.value("appeal"))
    if filters["action"]:
        qs = qs.filter(action__startswith=filters["action"])
    tz = timezone.get_current_timezone()
    first: date | None = form.value("from")
    last: date | None = form.value("to")
    if first is not None:
        qs = qs.filter(occurred_at__gte=datetime.combine(first, time.min, tzinfo=tz))
    if last is not None:
        qs = qs.filter(
            occurred_at__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
        )
    if errors:
        qs = qs.none()
    page = Paginator(qs, AUDIT_PAGE_SIZE).get_page(form.page_number)
    query = {k: v for k, v in filters.items() if v}
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "errors": errors,
        "actions": sorted(
            set(AuditEvent.objects.order_by().values_list("action", flat=True).distinct()[:200])
        ),
        "fields": AUDIT_FIELDS,
        **_nav("audit"),
    }
    return render(request, "console/audit.html", context, status=422 if errors else 200)
