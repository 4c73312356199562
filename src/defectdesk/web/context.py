"""The seller and marketplace in view: the marketplace switch, staff's seller search, own zone."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from defectdesk.accounts.actions import language_set, marketplace_remember, time_zone_set
from defectdesk.accounts.selectors import language_of, preference_of, sellers_visible_to
from defectdesk.core.actors import Actor
from defectdesk.core.errors import NotFound, ValidationFailed
from defectdesk.web.common import base_context, page, viewer_for
from defectdesk.web.forms import LanguageForm, MarketplaceSwitchForm, SellerSearchForm, TimeZoneForm

SELLERS_SHOWN = 50
# Where the switch leads back to: the same section, in the other marketplace.
SECTIONS = {"health": "home", "orders": "orders", "appeals": "appeals", "messages": "messages"}


@require_POST
@page
def marketplace_switch(request: HttpRequest) -> HttpResponse:
    """Show another marketplace of the seller in view, and remember it for the user."""
    viewer = viewer_for(request)
    form = MarketplaceSwitchForm(request.POST)
    code: str = form.value("marketplace", "")
    market = next((m for m in viewer.marketplaces if m.code == code), None)
    if market is None:
        seller = viewer.seller.external_id if viewer.seller else _("This seller")
        names = ", ".join(m.code for m in viewer.marketplaces) or _("none yet")
        raise NotFound(
            _("%(seller)s does not sell in marketplace %(code)r; it sells in: %(names)s.")
            % {"seller": seller, "code": code[:16], "names": names}
        )
    marketplace_remember(user=request.user, code=market.code)  # type: ignore[arg-type]
    target = reverse(SECTIONS.get(form.value("next", ""), "home"))
    query = f"?marketplace={market.code}"
    if viewer.principal.sees_all_sellers and viewer.seller is not None:
        query += f"&seller={viewer.seller.external_id}"
    return redirect(target + query)


@require_http_methods(["GET", "HEAD"])
@page
def seller_search(request: HttpRequest) -> HttpResponse:
    """Find a seller by id or name, for staff who see every seller (and merchants with many)."""
    viewer = viewer_for(request)
    q: str = SellerSearchForm(request.GET).value("q", "")
    found = sellers_visible_to(viewer.principal).order_by("external_id")
    if q:
        found = found.filter(Q(external_id__icontains=q) | Q(name__icontains=q))
    rows = list(found[: SELLERS_SHOWN + 1])
    return render(
        request,
        "web/sellers.html",
        base_context(
            viewer,
            "sellers",
            q=q,
            sellers=rows[:SELLERS_SHOWN],
            more=len(rows) > SELLERS_SHOWN,
        ),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@page
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's own settings: the zone their pages show times in."""
    viewer = viewer_for(request)
    own_zone = preference_of(request.user)[1]
    own_language = language_of(request.user)
    form = TimeZoneForm(request.POST or None, initial={"time_zone": own_zone})
    language_form = LanguageForm(request.POST or None, initial={"language": own_language})
    if request.method == "POST" and form.is_valid() and language_form.is_valid():
        try:
            time_zone_set(
                actor=Actor(user=request.user),
                user=request.user,  # type: ignore[arg-type]
                time_zone=form.cleaned_data["time_zone"],
            )
            language_set(
                actor=Actor(user=request.user),
                user=request.user,  # type: ignore[arg-type]
                language=language_form.cleaned_data["language"],
            )
        except ValidationFailed as exc:
            target = form if exc.errors[0].field == "time_zone" else language_form
            target.add_error(exc.errors[0].field, str(exc.errors[0].message))
        else:
            chosen = language_form.cleaned_data["language"]
            if chosen:
                translation.activate(chosen)  # say it in the language just chosen
            messages.success(request, _("Your settings are saved."))
            response = redirect("preferences")
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            return response
    return render(
        request,
        "web/preferences.html",
        base_context(
            viewer,
            "preferences",
            form=form,
            language_form=language_form,
            own_zone=own_zone,
            own_language=own_language,
            languages=settings.LANGUAGES,
        ),
    )


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home") if request.user.is_authenticated else reverse("signin")


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The header's language switch: saved for a signed-in user, kept in a cookie for anyone."""
    form = LanguageForm(request.POST)
    # Back to the page the switch was on (the header is cached, so it names no page itself).
    target = _safe_next(
        request, str(request.POST.get("next", "") or request.headers.get("Referer", ""))
    )
    if not form.is_valid():
        return HttpResponse(
            " ".join(str(m) for m in form.errors.get("language", [])) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    code = form.cleaned_data["language"]
    if request.user.is_authenticated:
        language_set(actor=Actor(user=request.user), user=request.user, language=code)  # type: ignore[arg-type]
    response = redirect(target)
    if code:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


@require_http_methods(["GET", "HEAD"])
def glossary(request: HttpRequest) -> HttpResponse:
    """The merchants' terms in English and Chinese, side by side (docs/glossary.md)."""
    from defectdesk.web.glossary import GLOSSARY

    return render(request, "web/glossary.html", {"terms": GLOSSARY, "active": "glossary"})
