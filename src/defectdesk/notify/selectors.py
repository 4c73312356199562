"""Reads of a user's notifications."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from defectdesk.accounts.identity import identity_cached
from defectdesk.accounts.roles import Principal
from defectdesk.appeals.models import Appeal
from defectdesk.notify.models import Notification


def notifications_for(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Notification]:
    """A user's own in-app notifications, newest first (none for anonymous)."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk)


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


def unread_stored(user: AbstractBaseUser | AnonymousUser) -> int:
    """How many of the user's notifications are unread, counted in the database."""
    return notifications_for(user).filter(read_at__isnull=True).count()


def unread_count(user: AbstractBaseUser | AnonymousUser | None) -> int:
    """How many of the user's notifications are unread.

    With a shared cache, the signed-in user is loaded with the count (accounts.backends), and
    elsewhere it is cached on its own; creating or reading a notification changes the user's
    identity generation, which retires both."""
    if user is None or not user.is_authenticated:
        return 0
    known = getattr(user, "_defectdesk_unread", None)
    if known is not None:
        return int(known)
    found = identity_cached(user.pk, "unread", lambda: unread_stored(user))
    return found or 0
