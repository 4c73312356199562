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

from defectdesk.accounts.models import Seller
from defectdesk.accounts.roles import Principal, principal_for_user
from defectdesk.accounts.selectors import seller_for, sellers_visible_to
from defectdesk.core.errors import DomainError, Forbidden, NotFound

P = ParamSpec("P")
SESSION_SELLER = "web.seller"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The principal behind a page and the seller whose pages they are looking at."""

    principal: Principal
    seller: Seller | None

    @property
    def may_write(self) -> bool:
        return self.seller is not None and self.principal.may_write_seller(self.seller.pk)

    @property
    def is_owner(self) -> bool:
        return self.seller is not None and self.principal.is_owner_of(self.seller.pk)


def viewer_for(request: HttpRequest) -> Viewer:
    """The principal and the seller in view: `?seller=`, else the session's, else the first."""
    principal = principal_for_user(request.user)
    asked = request.GET.get("seller")
    seller: Seller | None
    if asked:
        seller = seller_for(principal, str(asked))
    else:
        seller = _session_seller(request, principal)
        if seller is None:
            seller = sellers_visible_to(principal).order_by("external_id").first()
    if seller is not None:
        remembered = [seller.pk, seller.external_id, seller.name]
        if request.session.get(SESSION_SELLER) != remembered:
            request.session[SESSION_SELLER] = remembered
    return Viewer(principal, seller)


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
