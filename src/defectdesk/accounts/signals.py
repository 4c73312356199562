"""Drop a user's cached identity whenever their account or roles change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from defectdesk.accounts.identity import identity_changed
from defectdesk.accounts.models import Membership, StaffRole


@receiver([post_save, post_delete], sender=get_user_model())
def _user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    identity_changed(instance.pk)


@receiver([post_save, post_delete], sender=Membership)
@receiver([post_save, post_delete], sender=StaffRole)
def _roles_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    identity_changed(instance.user_id)
