"""Who performs an action: a user, a user through an API token, a rule, or the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


@dataclass(frozen=True, slots=True)
class Actor:
    user: AbstractBaseUser | AnonymousUser | None = None
    token_id: int | None = None
    rule: str | None = None

    @property
    def signed_in(self) -> AbstractBaseUser | None:
        """The user acting, when one is signed in (None for anonymous, rules and the system)."""
        if self.user is not None and self.user.is_authenticated:
            return self.user  # type: ignore[return-value]
        return None

    @property
    def label(self) -> str:
        if self.rule:
            return f"rule:{self.rule}"
        if self.user is not None and self.user.is_authenticated:
            name = self.user.get_username()
            return f"{name} (token {self.token_id})" if self.token_id else name
        if self.token_id:
            return f"token {self.token_id}"
        return "system"


SYSTEM = Actor()
