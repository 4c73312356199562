"""Sellers, who works for them, marketplace staff roles, and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Seller(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["external_id"]

    def __str__(self) -> str:
        return self.name or self.external_id

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.external_id})" if self.name else self.external_id


class Membership(models.Model):
    """A user's role at one seller."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")
        READ_ONLY = "read_only", _("Read-only staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "seller"], name="accounts_one_membership_per_seller"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} at {self.seller}"


class StaffRole(models.Model):
    """A marketplace-side role: reviewer or operator admin."""

    class Role(models.TextChoices):
        REVIEWER = "reviewer", _("Reviewer")
        OPERATOR = "operator", _("Operator admin")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="accounts_one_staff_role_each")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"


class ApiToken(models.Model):
    """A bearer token, stored only as a SHA-256 hash; scoped to API areas or to one seller."""

    class Scope(models.TextChoices):
        INGEST = "ingest", _("Ingest events")
        REVIEW = "review", _("Review appeals")
        ADMIN = "admin", _("Administer")

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, blank=True)
    seller = models.ForeignKey(
        Seller, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    read_only = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(seller__isnull=False) & ~models.Q(scopes=[])),
                name="accounts_token_seller_or_scopes",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


OPERATOR_GROUP = "Operators"
# What the Django admin shows operators (docs/appeals.md, docs/operations.md): the appeal policy
# to edit, appeals, marketplaces, Stripe webhooks and job results to look at.
OPERATOR_ADMIN_PERMISSIONS = [
    ("appeals", "add_appealpolicy"),
    ("appeals", "change_appealpolicy"),
    ("appeals", "view_appealpolicy"),
    ("appeals", "view_appeal"),
    ("ledger", "view_marketplace"),
    ("ledger", "view_stripewebhook"),
    ("django_tasks_database", "view_dbtaskresult"),
    # Two-factor devices: see who has one, and remove a lost one.
    ("otp_totp", "view_totpdevice"),
    ("otp_totp", "delete_totpdevice"),
    ("otp_static", "view_staticdevice"),
    ("otp_static", "delete_staticdevice"),
]


class UserPreference(models.Model):
    """What a user chose for their own pages: the marketplace in view, a time zone, a language."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    # A marketplace code, not a foreign key: accounts sit below the ledger.
    marketplace = models.CharField(max_length=16, blank=True, default="")
    # An IANA zone name; empty means "the marketplace's zone".
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # A code of settings.LANGUAGES; empty means "the browser's, else the marketplace's".
    language = models.CharField(max_length=16, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.marketplace or '-'} {self.time_zone or '-'}"


class Invitation(models.Model):
    """An owner's invitation to work for a seller, sent to an e-mail address.

    Whoever opens the link chooses their own user name and password, or signs in to an account
    they have; the owner never learns whether the address or any user name already exists.
    Only a hash of the link's key is stored."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    key_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    names_refused = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} at {self.seller}"
