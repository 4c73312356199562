"""What every merchant page needs: the signed-in principal, the seller in view, errors as pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _

from defectdesk.accounts.models import Seller
from defectdesk.accounts.roles import Principal, principal_for_user
from defectdesk.accounts.selectors import preference_of, seller_for, sellers_visible_to
from defectdesk.core.datacache import cached, shows_seller
from defectdesk.core.errors import DomainError, Forbidden, NotFound
from defectdesk.core.language import marketplace_language_use
from defectdesk.core.timeutil import zone
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.health import marketplace_names, seller_marketplaces

P = ParamSpec("P")
SESSION_SELLER = "web.seller"
# The marketplaces a seller sells in change only with new orders (a new data version).
MARKETS_CACHE_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Viewer:
    """The principal behind a page and the seller whose pages they are looking at."""

    principal: Principal
    seller: Seller | None
    marketplace: Marketplace | None = None
    marketplaces: tuple[Marketplace, ...] = ()
    time_zone: str = ""

    @property
    def may_write(self) -> bool:
        return self.seller is not None and self.principal.may_write_seller(self.seller.pk)

    @property
    def is_owner(self) -> bool:
        return self.seller is not None and self.principal.is_owner_of(self.seller.pk)


def viewer_for(request: HttpRequest, *, marketplace: Marketplace | None = None) -> Viewer:
    """The principal, the seller and the marketplace in view, with times shown in their zone.

    The seller: `?seller=`, else the session's, else a merchant's first (staff pick one).
    The marketplace: the one given (an order's, an appeal's), else `?marketplace=`, else the
    one the user last chose, else the seller's with the most recent orders. Times are shown in
    the user's own zone where they set one, else in the marketplace's.
    """
    principal = principal_for_user(request.user)
    asked = request.GET.get("seller")
    seller: Seller | None
    if asked:
        seller = seller_for(principal, str(asked))
    else:
        seller = _session_seller(request, principal)
        if seller is None and not principal.sees_all_sellers:
            seller = sellers_visible_to(principal).order_by("external_id").first()
    if seller is not None:
        remembered = [seller.pk, seller.external_id, seller.name]
        if request.session.get(SESSION_SELLER) != remembered:
            request.session[SESSION_SELLER] = remembered
    markets: tuple[Marketplace, ...] = ()
    if seller is not None:
        found = seller
        markets = tuple(
            cached(
                "web:markets",
                shows_seller(found.pk),
                None,
                lambda: seller_marketplaces(found),
                MARKETS_CACHE_SECONDS,
            )
        )
    chosen_code, own_zone = preference_of(request.user)
    if marketplace is None and markets:
        code = request.GET.get("marketplace")
        if code:
            marketplace = next((m for m in markets if m.code == code), None)
            if marketplace is None:
                who = seller.external_id if seller else _("This seller")
                raise NotFound(
                    _("%(seller)s does not sell in marketplace %(code)r; it sells in: %(names)s.")
                    % {
                        "seller": who,
                        "code": str(code)[:16],
                        "names": marketplace_names(list(markets)),
                    }
                )
        else:
            marketplace = next((m for m in markets if m.code == chosen_code), markets[0])
    if marketplace is not None and marketplace not in markets:
        markets = (*markets, marketplace)
    if marketplace is not None:
        marketplace_language_use(request, marketplace.default_language)
    shown_zone = own_zone or (marketplace.timezone if marketplace is not None else "")
    if shown_zone:
        try:
            timezone.activate(zone(shown_zone))
        except ValueError:
            shown_zone = ""
    return Viewer(principal, seller, marketplace, markets, shown_zone)


def _session_seller(request: HttpRequest, principal: Principal) -> Seller | None:
    """The seller remembered in the session, if the principal may still read it."""
    remembered = request.session.get(SESSION_SELLER)
    if not isinstance(remembered, list) or len(remembered) != 3:
        return None
    pk, external_id, name = remembered
    if not isinstance(pk, int) or not principal.may_read_seller(pk):
        return None
    # Only its id, external id and name are read from a page's seller; no query needed.
    return Seller(pk=pk, external_id=str(external_id), name=str(name))


def page(
    view: Callable[Concatenate[HttpRequest, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """A signed-in page whose domain refusals become 404 and 403 pages."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.detail) from exc
        except Forbidden as exc:
            raise PermissionDenied(exc.detail) from exc

    return login_required(wrapped)  # type: ignore[return-value]


def field_errors(exc: DomainError) -> dict[str, list[str]]:
    """A refusal's messages grouped by the field they name ("" for the form as a whole)."""
    found: dict[str, list[str]] = {}
    for err in exc.errors:
        found.setdefault(err.field, []).append(err.message)
    return found


def base_context(viewer: Viewer, active: str, **extra: Any) -> dict[str, Any]:
    return {"viewer": viewer, "seller": viewer.seller, "active": active, **extra}


def viewer_at(viewer: Viewer, seller: Seller, marketplace: Marketplace) -> Viewer:
    """The viewer looking at one object's page: its seller, in its marketplace and zone."""
    markets = viewer.marketplaces if viewer.seller == seller else ()
    if marketplace not in markets:
        markets = (*markets, marketplace)
    _, own_zone = preference_of(viewer.principal.user)
    shown_zone = viewer.time_zone if own_zone else marketplace.timezone
    if not own_zone:
        timezone.activate(zone(shown_zone))
    return Viewer(viewer.principal, seller, marketplace, markets, shown_zone)
