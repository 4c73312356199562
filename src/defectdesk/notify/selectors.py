"""Reads of a user's notifications."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from defectdesk.notify.models import Notification


def notifications_for(user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Notification]:
    """A user's own in-app notifications, newest first (none for anonymous)."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk)


def unread_count(user: AbstractBaseUser | AnonymousUser | None) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()
