"""State changes to users, memberships and tokens; each writes its audit event."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AbstractUser, Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from defectdesk.accounts.models import (
    OPERATOR_ADMIN_PERMISSIONS,
    OPERATOR_GROUP,
    ApiToken,
    Invitation,
    Membership,
    Seller,
    StaffRole,
    UserPreference,
)
from defectdesk.accounts.selectors import invitation_open, seller_invitations
from defectdesk.accounts.tokens import token_generate, token_hash
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import FieldError, NotFound, ValidationFailed
from defectdesk.core.timeutil import zone

VALID_SCOPES = {choice.value for choice in ApiToken.Scope}
INVITATION_DAYS = 7
INVITATIONS_WAITING = 50
"""Invitations a seller may have waiting at once: the form cannot be used to mail anyone at will."""

log = logging.getLogger(__name__)


def seller_ensure(external_id: str, *, name: str = "") -> Seller:
    """The seller with this external id, created if it does not exist."""
    seller, created = Seller.objects.get_or_create(external_id=external_id, defaults={"name": name})
    if not created and name and seller.name != name:
        seller.name = name
        seller.save(update_fields=["name"])
    return seller


def operator_group() -> Group:
    """The group that gives operators the Django admin permissions the docs promise."""
    group, _created = Group.objects.get_or_create(name=OPERATOR_GROUP)
    wanted = Q()
    for app_label, codename in OPERATOR_ADMIN_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def _operator_admin(user: AbstractUser, operator: bool) -> None:
    """Give (or take away) the operator's Django admin: the staff flag and the operator group."""
    user.is_staff = operator
    user.save(update_fields=["is_staff"])
    if operator:
        user.groups.add(operator_group())
    else:
        user.groups.remove(*Group.objects.filter(name=OPERATOR_GROUP))


def _password_errors(password: str) -> list[FieldError]:
    if not isinstance(password, str) or len(password) < 8:
        return [FieldError("password", "must be at least 8 characters")]
    return []


def user_create(
    *,
    actor: Actor,
    username: str,
    password: str,
    email: str = "",
    seller: str | None = None,
    role: str | None = None,
    reviewer: bool = False,
    operator: bool = False,
) -> AbstractUser:
    """Create a user with a seller role or staff roles; a taken user name is refused."""
    errors = []
    if not username or len(username) > 150:
        errors.append(FieldError("username", _("must be 1 to 150 characters")))
    errors += _password_errors(password)
    if seller and role not in {r.value for r in Membership.Role}:
        errors.append(FieldError("role", _("must be one of owner, staff, read_only")))
    if not seller and not reviewer and not operator:
        errors.append(FieldError("role", _("give a seller and role, --reviewer or --operator")))
    if errors:
        raise ValidationFailed(_("The user was not created."), errors)
    user_model = get_user_model()
    taken = ValidationFailed(
        _("The user was not created."),
        [
            FieldError(
                "username",
                _(
                    "%(name)r is taken; choose another name, or change that user's password "
                    "with `defectdesk users set-password`"
                )
                % {"name": username},
            )
        ],
    )
    if user_model.objects.filter(username=username).exists():
        raise taken
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = user_model(username=username, email=email)
                user.set_password(password)
                user.save()
        except IntegrityError:
            raise taken from None
        if operator:
            _operator_admin(user, True)
        seller_obj = None
        if seller:
            seller_obj = seller_ensure(seller)
            Membership.objects.update_or_create(
                user=user, seller=seller_obj, defaults={"role": role}
            )
        for flag, staff_role in (
            (reviewer, StaffRole.Role.REVIEWER),
            (operator, StaffRole.Role.OPERATOR),
        ):
            if flag:
                StaffRole.objects.get_or_create(user=user, role=staff_role)
        audit_record(
            actor=actor,
            action="user.create",
            object_type="user",
            object_id=user.pk,
            seller_id=seller_obj.pk if seller_obj else None,
            data={
                "username": username,
                "seller": seller,
                "role": role,
                "reviewer": reviewer,
                "operator": operator,
            },
        )
    return user  # type: ignore[return-value]


def membership_set(*, actor: Actor, username: str, seller: str, role: str) -> Membership:
    """Give an existing user a role at a seller (the seller is created if it is new)."""
    if role not in {r.value for r in Membership.Role}:
        raise ValidationFailed(
            _("The role was not given."),
            [FieldError("role", _("must be one of owner, staff, read_only"))],
        )
    with transaction.atomic():
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise NotFound(_("No user %(name)r.") % {"name": username})
        seller_obj = seller_ensure(seller)
        membership, _created = Membership.objects.update_or_create(
            user=user, seller=seller_obj, defaults={"role": role}
        )
        audit_record(
            actor=actor,
            action="user.membership",
            object_type="user",
            object_id=user.pk,
            seller_id=seller_obj.pk,
            data={"username": username, "seller": seller, "role": role},
        )
    return membership


def user_set_password(*, actor: Actor, username: str, password: str) -> AbstractUser:
    """Change an existing user's password; nothing else about the user changes."""
    errors = _password_errors(password)
    if errors:
        raise ValidationFailed(_("The password was not changed."), errors)
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().filter(username=username).first()
        if user is None:
            raise NotFound(_("No user %(name)r.") % {"name": username})
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            actor=actor,
            action="user.password",
            object_type="user",
            object_id=user.pk,
            data={"username": username},
        )
    return user  # type: ignore[return-value]


def user_deactivate(*, actor: Actor, username: str) -> AbstractUser:
    """Deactivate a user: every session and token of theirs stops working at the next request.

    The user stays (audit events name them); deactivating twice is harmless."""
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().filter(username=username).first()
        if user is None:
            raise NotFound(f"No user {username!r}.")
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
            audit_record(
                actor=actor,
                action="user.deactivate",
                object_type="user",
                object_id=user.pk,
                from_state="active",
                to_state="inactive",
                data={"username": username},
            )
    return user  # type: ignore[return-value]


def invitation_create(
    *, actor: Actor, seller: Seller, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite an e-mail address to work for a seller; returns the invitation and the link's key.

    The answer never depends on whether the address or a user behind it exists: the link is
    e-mailed after commit, and whoever opens it chooses a user name or signs in."""
    email = email.strip()
    errors = []
    try:
        validate_email(email)
    except DjangoValidationError:
        errors.append(FieldError("email", "must be an e-mail address, such as ann@example.com"))
    if role not in {r.value for r in Membership.Role}:
        errors.append(FieldError("role", "choose owner, staff or read-only staff"))
    if not errors and seller_invitations(seller).count() >= INVITATIONS_WAITING:
        errors.append(
            FieldError(
                "email",
                f"{INVITATIONS_WAITING} invitations are waiting to be accepted; "
                "invite more once some are accepted or expired",
            )
        )
    if errors:
        raise ValidationFailed("The invitation was not sent.", errors)
    raw = secrets.token_urlsafe(32)
    user = actor.signed_in
    with transaction.atomic():
        invitation = Invitation.objects.create(
            seller=seller,
            email=email,
            role=role,
            key_hash=token_hash(raw),
            invited_by_id=user.pk if user is not None else None,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        audit_record(
            actor=actor,
            action="user.invite",
            object_type="invitation",
            object_id=invitation.pk,
            seller_id=seller.pk,
            data={"email": email, "role": role},
        )
        link = f"{settings.BASE_URL}{reverse('invitation', args=[raw])}"
        # One line, whatever the seller's name holds (a line break would refuse the mail).
        subject = " ".join(f"You are invited to work for {seller.display_name}".split())
        body = (
            f"{actor.label} invites you to work for {seller.display_name} as "
            f"{Membership.Role(role).label.lower()}.\n\n"
            f"Open this link to choose your user name and password, or to sign in to the "
            f"account you have: {link}\n\nIt works once, until "
            f"{invitation.expires_at:%d %b %Y %H:%M} UTC. If you did not expect it, ignore it."
        )
        transaction.on_commit(lambda: _invitation_send(email, subject, body))
    return invitation, raw


def _invitation_send(email: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [email])
    except Exception:  # the owner can invite again; the page never says whether it arrived
        log.warning("could not send an invitation e-mail", exc_info=True)


def invitation_accept(
    *,
    actor: Actor,
    key: str,
    user: AbstractBaseUser | None = None,
    username: str = "",
    password: str = "",
) -> Membership:
    """Accept an invitation: as the signed-in `user`, or as a new user with this name and
    password. A taken name is refused a few times (INVITATION_NAMES_REFUSED), then the link dies."""
    gone = NotFound("This invitation is no longer valid.")
    found = invitation_open(key)
    if found is None:
        raise gone
    if user is None:
        username = username.strip()
        errors = []
        if not username or len(username) > 150:
            errors.append(FieldError("username", "must be 1 to 150 characters"))
        else:
            try:
                get_user_model().username_validator(username)  # type: ignore[attr-defined]
            except DjangoValidationError:
                errors.append(FieldError("username", "may hold letters, digits and @ . + - _ only"))
        try:
            validate_password(password, get_user_model()(username=username, email=found.email))
        except DjangoValidationError as exc:
            errors += [FieldError("password", message) for message in exc.messages]
        if errors:
            raise ValidationFailed("The account was not created.", errors)
        if get_user_model().objects.filter(username=username).exists():
            Invitation.objects.filter(pk=found.pk).update(names_refused=F("names_refused") + 1)
            raise ValidationFailed(
                "The account was not created.",
                [FieldError("username", "this user name is taken; choose another")],
            )
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pk=found.pk, accepted_at__isnull=True)
            .first()
        )
        if invitation is None:
            raise gone
        created = user is None
        if user is None:
            try:
                with transaction.atomic():
                    new = get_user_model()(username=username, email=invitation.email)
                    new.set_password(password)
                    new.save()
            except IntegrityError:
                raise ValidationFailed(
                    "The account was not created.",
                    [FieldError("username", "this user name is taken; choose another")],
                ) from None
            user = new
        membership, joined = Membership.objects.get_or_create(
            user_id=user.pk, seller_id=invitation.seller_id, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by_id = user.pk
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            actor=actor
            if actor.user is not None and actor.user.is_authenticated
            else Actor(user=user),
            action="user.invitation_accept",
            object_type="invitation",
            object_id=invitation.pk,
            seller_id=invitation.seller_id,
            data={
                "username": user.get_username(),
                "role": membership.role,
                "new_user": created,
                "joined": joined,
            },
        )
    return membership


def token_create(
    *,
    actor: Actor,
    name: str,
    seller: str | None = None,
    read_only: bool = False,
    scopes: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the raw secret, which is never stored or shown again."""
    scopes = sorted(set(scopes or []))
    errors = []
    if not name.strip():
        errors.append(FieldError("name", _("must not be empty")))
    if bool(seller) == bool(scopes):
        errors.append(
            FieldError("scope", _("give either a seller or scopes (ingest, review, admin)"))
        )
    unknown = [s for s in scopes if s not in VALID_SCOPES]
    if unknown:
        errors.append(FieldError("scope", _("unknown scope %(s)s") % {"s": ", ".join(unknown)}))
    seller_obj = None
    if seller:
        seller_obj = Seller.objects.filter(external_id=seller).first()
        if seller_obj is None:
            errors.append(FieldError("seller", _("no seller %(id)r") % {"id": seller}))
    if errors:
        raise ValidationFailed(_("The token was not created."), errors)
    raw, prefix = token_generate()
    user = actor.signed_in
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name.strip(),
            prefix=prefix,
            token_hash=token_hash(raw),
            scopes=scopes,
            seller=seller_obj,
            read_only=read_only,
            created_by_id=user.pk if user is not None else None,
        )
        audit_record(
            actor=actor,
            action="token.create",
            object_type="token",
            object_id=token.pk,
            seller_id=seller_obj.pk if seller_obj else None,
            data={"name": token.name, "scopes": scopes, "read_only": read_only},
        )
    return token, raw


def token_revoke(
    *, actor: Actor, token_id: int | None = None, prefix: str | None = None
) -> ApiToken:
    """Revoke a token by id or display prefix; revoking twice is harmless."""
    with transaction.atomic():
        qs = ApiToken.objects.select_for_update()
        token = (
            qs.filter(pk=token_id).first()
            if token_id is not None
            else qs.filter(prefix=prefix).first()
        )
        if token is None:
            raise NotFound(_("No such token."))
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="token.revoke",
                object_type="token",
                object_id=token.pk,
                seller_id=token.seller_id,
            )
    return token


def staff_roles_set(
    *, actor: Actor, user: AbstractUser, reviewer: bool, operator: bool
) -> AbstractUser:
    """Grant or take away a user's reviewer and operator roles; the last operator stays one."""
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        before = set(StaffRole.objects.filter(user=locked).values_list("role", flat=True))
        if not operator and StaffRole.Role.OPERATOR in before:
            # Lock every operator row so two demotions at once cannot both pass.
            operators = list(
                StaffRole.objects.select_for_update()
                .filter(role=StaffRole.Role.OPERATOR, user__is_active=True)
                .values_list("user_id", flat=True)
            )
            if set(operators) <= {locked.pk}:
                raise ValidationFailed(
                    _("The last operator cannot be demoted."),
                    [
                        FieldError(
                            "operator",
                            _("%(name)s is the only operator; make someone else an operator first")
                            % {"name": locked.get_username()},
                        )
                    ],
                )
        wanted: set[str] = {
            str(role)
            for flag, role in (
                (reviewer, StaffRole.Role.REVIEWER),
                (operator, StaffRole.Role.OPERATOR),
            )
            if flag
        }
        if wanted == before:
            return locked  # type: ignore[return-value]
        StaffRole.objects.filter(user=locked).exclude(role__in=wanted).delete()
        for role in sorted(wanted - before):
            StaffRole.objects.create(user=locked, role=role)
        # Django admin is for operators only.
        _operator_admin(locked, operator)
        audit_record(
            actor=actor,
            action="user.roles",
            object_type="user",
            object_id=locked.pk,
            from_state=",".join(sorted(before)),
            to_state=",".join(sorted(wanted)),
            data={"username": locked.get_username(), "reviewer": reviewer, "operator": operator},
        )
    return locked  # type: ignore[return-value]


def marketplace_remember(*, user: AbstractBaseUser, code: str) -> None:
    """Remember the marketplace a user last chose to view.

    A view choice like the seller kept in the session, not a change to anyone's data: it is
    not audited, so that switching does not advance the data version every page cache reads.
    """
    UserPreference.objects.update_or_create(user_id=user.pk, defaults={"marketplace": code})
    setattr(user, "_defectdesk_preference", None)  # noqa: B010


def _preference_set(*, actor: Actor, user: AbstractBaseUser, field: str, value: str) -> None:
    """Store one of a user's preferences; a change is audited as `user.<field>_set` and drops
    the preference the user object holds."""
    with transaction.atomic():
        pref, _created = UserPreference.objects.select_for_update().get_or_create(user_id=user.pk)
        before = getattr(pref, field)
        if before == value:
            return
        setattr(pref, field, value)
        pref.save(update_fields=[field, "updated_at"])
        audit_record(
            actor=actor,
            action=f"user.{field}_set",
            object_type="user",
            object_id=user.pk,
            from_state=before,
            to_state=value,
        )
    setattr(user, "_defectdesk_preference", None)  # noqa: B010


def time_zone_set(*, actor: Actor, user: AbstractBaseUser, time_zone: str) -> None:
    """Set the zone a user's pages show times in ("" for the marketplace's own zone)."""
    name = time_zone.strip()
    if name:
        try:
            zone(name)
        except ValueError:
            raise ValidationFailed(
                _("The time zone was not saved."),
                [
                    FieldError(
                        "time_zone",
                        _(
                            "%(name)r is not a known time zone; use a name such as "
                            "America/Los_Angeles or Asia/Shanghai"
                        )
                        % {"name": name[:64]},
                    )
                ],
            ) from None
    _preference_set(actor=actor, user=user, field="time_zone", value=name)


def language_set(*, actor: Actor, user: AbstractBaseUser, language: str) -> None:
    """Set the language of a user's pages, e-mails and notifications ("" for the browser's)."""
    from defectdesk.core.language import language_codes, language_supported

    code = language_supported(language) if language.strip() else ""
    if language.strip() and not code:
        raise ValidationFailed(
            _("The language was not saved."),
            [
                FieldError(
                    "language",
                    _("%(name)r is not a language of DefectDesk; choose one of %(codes)s")
                    % {"name": language[:32], "codes": ", ".join(language_codes())},
                )
            ],
        )
    _preference_set(actor=actor, user=user, field="language", value=code)
