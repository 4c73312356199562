"""Reads of mirror-mode data that encode visibility: a merchant sees their own sellers' only."""

from __future__ import annotations

from django.db.models import QuerySet

from defectdesk.appeals.selectors import Who, principal_of
from defectdesk.core.errors import one_or_not_found
from defectdesk.mirror.models import MirrorAccount, MirrorCase, RawDocument


def accounts_visible_to(who: Who) -> QuerySet[MirrorAccount]:
    qs = MirrorAccount.objects.select_related("seller", "marketplace").order_by("site", "id")
    return principal_of(who).seller_scoped(qs)


def account_for(who: Who, account_id: int) -> MirrorAccount:
    return one_or_not_found(
        accounts_visible_to(who), account_id, f"Amazon account {account_id} not found."
    )


def cases_visible_to(who: Who) -> QuerySet[MirrorCase]:
    qs = MirrorCase.objects.select_related("account", "marketplace", "seller", "defect")
    return principal_of(who).seller_scoped(qs)


def case_for(who: Who, case_id: int) -> MirrorCase:
    return one_or_not_found(cases_visible_to(who), case_id, f"Request {case_id} not found.")


def documents_of(account: MirrorAccount) -> QuerySet[RawDocument]:
    """The account's documents, newest first, without their bytes."""
    return RawDocument.objects.filter(account=account).defer("content")
