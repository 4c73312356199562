"""Which of a user's notifications an API token may see: those about its own scope."""

from __future__ import annotations

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from defectdesk.accounts.roles import Principal
from defectdesk.appeals.models import Appeal
from defectdesk.notify.models import Notification
from defectdesk.notify.selectors import notifications_for, unread_count


def notifications_visible(who: Principal) -> QuerySet[Notification]:
    """The notifications a principal may see: a token sees only those within its own scope.

    A seller token sees its creator's notifications about that seller's appeals and account
    status; a review token those about appeals; any other token none."""
    found = notifications_for(who.user)
    token = who.token
    if token is None:
        return found
    if token.seller is not None:
        appeal_ids = (
            Appeal.objects.filter(seller_id=token.seller.pk)
            .annotate(ref=Cast("pk", CharField()))
            .values("ref")
        )
        return found.filter(
            Q(object_type="appeal", object_id__in=appeal_ids)
            | Q(object_type="account_status", object_id=token.seller.external_id)
        )
    if who.is_reviewer:
        return found.filter(object_type="appeal")
    return found.none()


def unread_visible(who: Principal) -> int:
    """How many of the notifications a principal may see are unread."""
    if who.token is None:
        return unread_count(who.user)
    return notifications_visible(who).filter(read_at__isnull=True).count()
