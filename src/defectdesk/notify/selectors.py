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


def unread_stored(user: AbstractBaseUser | AnonymousUser) -> int:
    """How many of the user's notifications are unread, counted in the database."""
    return notifications_for(user).filter(read_at__isnull=True).count()


def unread_count(user: AbstractBaseUser | AnonymousUser | None) -> int:
    """How many of the user's notifications are unread.

    With a shared cache, the signed-in user is loaded with the count (`unread_preload`), and
    elsewhere it is cached on its own; creating or reading a notification changes the user's
    identity generation, which retires both."""
    if user is None or not user.is_authenticated:
        return 0
    known = getattr(user, "_defectdesk_unread", None)
    if known is not None:
        return int(known)
    found = identity_cached(user.pk, "unread", lambda: unread_stored(user))
    return found or 0


def unread_preload(user: AbstractBaseUser) -> None:
    """Load the unread count with the signed-in user: every page's header shows it, so the
    shared cache keeps one entry rather than two (see accounts.identity)."""
    user._defectdesk_unread = unread_stored(user)  # type: ignore[attr-defined]
