"""Reads of defects that encode who may see them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from defectdesk.accounts.roles import Principal, principal_for_user
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
