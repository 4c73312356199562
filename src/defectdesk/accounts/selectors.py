"""Reads that encode who may see which seller."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from defectdesk.accounts.models import ApiToken, Invitation, Membership, Seller
from defectdesk.accounts.roles import Principal, principal_of
from defectdesk.core.errors import NotFound

INVITATION_NAMES_REFUSED = 5
"""Taken user names an invitation answers before it is spent: the one who holds the link may
choose again a few times, but nobody can use it to test many names."""


def sellers_visible_to(
    who: Principal | AbstractBaseUser | AnonymousUser | None,
) -> QuerySet[Seller]:
    """Every seller for marketplace staff; a merchant's own sellers otherwise."""
    return principal_of(who).seller_scoped(Seller.objects.all(), "pk")


def seller_for(
    who: Principal | AbstractBaseUser | AnonymousUser | None, external_id: str
) -> Seller:
    """One visible seller by its external id; an unknown or foreign one is NotFound (404)."""
    seller = sellers_visible_to(who).filter(external_id=external_id).first()
    if seller is None:
        raise NotFound(f"Seller {external_id!r} not found.")
    return seller


def seller_members(seller: Seller) -> QuerySet[Membership]:
    """The users who work for a seller, with their roles (for its owners' Users page)."""
    return (
        Membership.objects.filter(seller=seller).select_related("user").order_by("user__username")
    )


def seller_tokens(seller: Seller) -> QuerySet[ApiToken]:
    """The API tokens scoped to a seller, newest first (for its owners' Tokens page)."""
    return ApiToken.objects.filter(seller=seller).select_related("created_by")


def seller_invitations(seller: Seller) -> QuerySet[Invitation]:
    """A seller's invitations not yet accepted and not expired (for its owners' Users page)."""
    return Invitation.objects.filter(
        seller=seller, accepted_at__isnull=True, expires_at__gt=timezone.now()
    )


def invitation_open(key: str) -> Invitation | None:
    """The invitation a link's key opens, if it can still be accepted."""
    from defectdesk.accounts.tokens import token_hash

    if not key or len(key) > 100:
        return None
    return (
        Invitation.objects.select_related("seller")
        .filter(
            key_hash=token_hash(key),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
            names_refused__lt=INVITATION_NAMES_REFUSED,
        )
        .first()
    )


def username_taken(username: str) -> bool:
    return get_user_model().objects.filter(username=username).exists()


def _preference_row(user: AbstractBaseUser) -> tuple[str, str, str]:
    cached = getattr(user, "_defectdesk_preference", None)
    if cached is None:
        from defectdesk.accounts.models import UserPreference

        row = UserPreference.objects.filter(user_id=user.pk).values_list(
            "marketplace", "time_zone", "language"
        )
        cached = next(iter(row), ("", "", ""))
        setattr(user, "_defectdesk_preference", cached)  # noqa: B010
    return cached  # type: ignore[no-any-return]


def preference_of(user: AbstractBaseUser | AnonymousUser | None) -> tuple[str, str]:
    """A signed-in user's (marketplace code, time zone), empty strings where none was chosen."""
    if user is None or not user.is_authenticated:
        return "", ""
    row = _preference_row(user)  # type: ignore[arg-type]
    return row[0], row[1]


def language_of(user: AbstractBaseUser | AnonymousUser | None) -> str:
    """The interface language a signed-in user chose, or "" (none chosen, or anonymous)."""
    if user is None or not user.is_authenticated:
        return ""
    return _preference_row(user)[2]  # type: ignore[arg-type]


def languages_of_users(user_ids: list[int]) -> dict[int, str]:
    """The chosen interface language of each of these users that chose one."""
    from defectdesk.accounts.models import UserPreference

    return dict(
        UserPreference.objects.filter(user_id__in=user_ids)
        .exclude(language="")
        .values_list("user_id", "language")
    )
