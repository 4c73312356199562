"""Reads of mirror-mode data that encode visibility: a merchant sees their own sellers' only."""

from __future__ import annotations

from django.db.models import QuerySet

from defectdesk.appeals.selectors import Who, principal_of
from defectdesk.core.errors import NotFound
from defectdesk.mirror.models import MirrorAccount, MirrorCase, RawDocument


def accounts_visible_to(who: Who) -> QuerySet[MirrorAccount]:
    qs = MirrorAccount.objects.select_related("seller", "marketplace").order_by("site", "id")
    return principal_of(who).seller_scoped(qs)


def account_for(who: Who, account_id: int) -> MirrorAccount:
    found = accounts_visible_to(who).filter(pk=account_id).first()
    if found is None:
        raise NotFound(f"Amazon account {account_id} not found.")
    return found


def cases_visible_to(who: Who) -> QuerySet[MirrorCase]:
    qs = MirrorCase.objects.select_related("account", "marketplace", "seller", "defect")
    return principal_of(who).seller_scoped(qs)


def case_for(who: Who, case_id: int) -> MirrorCase:
    found = cases_visible_to(who).filter(pk=case_id).first()
    if found is None:
        raise NotFound(f"Request {case_id} not found.")
    return found


def documents_of(account: MirrorAccount) -> QuerySet[RawDocument]:
    """The account's documents, newest first, without their bytes."""
    return RawDocument.objects.filter(account=account).defer("content")
