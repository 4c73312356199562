"""Who a user is to DefectDesk: which sellers, which marketplace roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import BigIntegerField, Model, QuerySet, Value

from defectdesk.accounts.models import ApiToken, Membership, StaffRole

WRITE_ROLES = {Membership.Role.OWNER, Membership.Role.STAFF}
M = TypeVar("M", bound=Model)


@dataclass
class Principal:
    """The resolved identity behind a request: a user's roles, or an API token's scope."""

    user: AbstractBaseUser | AnonymousUser | None
    token: ApiToken | None = None
    seller_roles: dict[int, str] = field(default_factory=dict)
    staff_roles: set[str] = field(default_factory=set)

    @property
    def is_reviewer(self) -> bool:
        if self.token is not None:
            return "review" in (self.token.scopes or [])
        return StaffRole.Role.REVIEWER in self.staff_roles

    @property
    def is_operator(self) -> bool:
        if self.token is not None:
            return "admin" in (self.token.scopes or [])
        return StaffRole.Role.OPERATOR in self.staff_roles

    @property
    def can_ingest(self) -> bool:
        if self.token is not None:
            return "ingest" in (self.token.scopes or [])
        return self.is_operator

    @property
    def sees_all_sellers(self) -> bool:
        return self.is_reviewer or self.is_operator

    def seller_ids(self) -> set[int]:
        return set(self.seller_roles)

    def seller_scoped(self, rows: QuerySet[M], field: str = "seller_id") -> QuerySet[M]:
        """The rows this principal may see: all of them for marketplace staff; else those whose
        `field` is one of its own sellers."""
        if self.sees_all_sellers:
            return rows
        return rows.filter(**{f"{field}__in": self.seller_ids()})

    def may_read_seller(self, seller_id: int) -> bool:
        return self.sees_all_sellers or seller_id in self.seller_roles

    def may_write_seller(self, seller_id: int) -> bool:
        return self.seller_roles.get(seller_id) in WRITE_ROLES

    def is_owner_of(self, seller_id: int) -> bool:
        return self.seller_roles.get(seller_id) == Membership.Role.OWNER


Who = Principal | AbstractBaseUser | AnonymousUser | None


def principal_of(who: Who) -> Principal:
    """The principal given, or the roles of the user given (none for anonymous or None)."""
    return who if isinstance(who, Principal) else principal_for_user(who)


def principal_for_user(user: AbstractBaseUser | AnonymousUser | None) -> Principal:
    """The roles of a signed-in user (none for anonymous)."""
    if user is None or not user.is_authenticated:
        return Principal(user=user)
    cached = getattr(user, "_defectdesk_principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    # Both kinds of role in one round trip (a staff role has no seller).
    memberships = Membership.objects.filter(user_id=user.pk).values_list("seller_id", "role")
    staff_rows = StaffRole.objects.filter(user_id=user.pk).annotate(
        no_seller=Value(None, output_field=BigIntegerField())
    )
    seller_roles: dict[int, str] = {}
    staff: set[str] = set()
    for seller_id, role in memberships.union(staff_rows.values_list("no_seller", "role"), all=True):
        if seller_id is None:
            staff.add(role)
        else:
            seller_roles[seller_id] = role
    principal = Principal(user=user, seller_roles=seller_roles, staff_roles=staff)
    setattr(user, "_defectdesk_principal", principal)  # noqa: B010
    return principal


def _creator_grants(token: ApiToken) -> bool:
    """Whether the token's creator still holds the role that let them create it.

    A token made without a user (the command line) has no creator to lose; one whose creator is
    deactivated, or no longer works for the seller, reviews or operates, dies with that role."""
    creator = token.created_by
    if creator is None:
        return token.created_by_id is None
    if not creator.is_active:
        return False
    roles = principal_for_user(creator)
    if token.seller_id is not None:
        if roles.is_operator:
            return True
        held = roles.seller_roles.get(token.seller_id)
        return held is not None and (token.read_only or held in WRITE_ROLES)
    needs = {"review": roles.is_reviewer, "admin": roles.is_operator, "ingest": roles.is_operator}
    return all(needs.get(scope, False) for scope in token.scopes or [])


def principal_for_token(token: ApiToken) -> Principal | None:
    """The scope of an API token: one seller (owner or read-only) or API areas; None if dead."""
    if token.revoked_at is not None or not _creator_grants(token):
        return None
    roles: dict[int, str] = {}
    if token.seller_id is not None:
        roles[token.seller_id] = (
            Membership.Role.READ_ONLY if token.read_only else Membership.Role.STAFF
        )
    return Principal(user=token.created_by, token=token, seller_roles=roles)
