"""Sign-in backend: Django's model backend, with the per-request user read from the cache."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User

from defectdesk.accounts.identity import identity_cached, user_preloads_run
from defectdesk.accounts.roles import principal_for_user
from defectdesk.core.shared import shared_cache_enabled


class CachedModelBackend(ModelBackend):
    """Passwords are checked as by ModelBackend. The user behind a session, with their roles,
    comes from the shared cache while they are unchanged (see `accounts.identity`)."""

    def get_user(self, user_id: Any) -> User | None:
        def load() -> User | None:
            user = super(CachedModelBackend, self).get_user(user_id)
            if user is not None:
                principal_for_user(user)  # resolved once, kept with the user
                if shared_cache_enabled():
                    user_preloads_run(user)  # kept in the same cache entry as the user
            return user

        user = identity_cached(user_id, "user", load)
        return user if user is not None and self.user_can_authenticate(user) else None
