"""Reads of defects that encode who may see them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from defectdesk.accounts.roles import Principal, principal_for_user
from defectdesk.core.errors import NotFound
from defectdesk.defects.models import Defect

Who = Principal | AbstractBaseUser | AnonymousUser | None


def _principal(who: Who) -> Principal:
    return who if isinstance(who, Principal) else principal_for_user(who)


def defects_visible_to(who: Who) -> QuerySet[Defect]:
    """Defects that have happened (a deadline-based one opens when its deadline passes)."""
    principal = _principal(who)
    qs = Defect.objects.select_related("order", "marketplace", "seller").filter(
        opened_at__lte=timezone.now()
    )
    if principal.sees_all_sellers:
        return qs
    return qs.filter(seller_id__in=principal.seller_ids())


def defect_for(who: Who, defect_id: int) -> Defect:
    """One visible defect; unknown and foreign ones are both NotFound (404)."""
    found = defects_visible_to(who).filter(pk=defect_id).first()
    if found is None:
        raise NotFound(f"Defect {defect_id} not found.")
    return found
