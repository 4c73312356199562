"""Reads of a user's notifications."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from defectdesk.accounts.identity import identity_cached
from defectdesk.notify.models import Notification


def notifications_for(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Notification]:
    """A user's own in-app notifications, newest first (none for anonymous)."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk)


def unread_count(user: AbstractBaseUser | AnonymousUser | None) -> int:
    """How many of the user's notifications are unread (from the shared cache when there is
    one: creating or reading a notification changes the user's identity generation)."""
    if user is None or not user.is_authenticated:
        return 0
    found = identity_cached(
        user.pk, "unread", lambda: notifications_for(user).filter(read_at__isnull=True).count()
    )
    return found or 0
