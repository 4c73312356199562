"""Appeals (Amazon's "complaints"), their files and messages, and the per-marketplace policy."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from defectdesk.accounts.models import Seller
from defectdesk.appeals.transitions import OPEN_STATUSES, REVIEW_STATUSES, Status
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Marketplace


class AppealPolicy(models.Model):
    """A marketplace's appeal rules; an empty field means the default of DESIGN §6."""

    marketplace = models.OneToOneField(
        Marketplace, on_delete=models.CASCADE, related_name="appeal_policy"
    )
    # {"negative_feedback": 90, ...}: days from the defect's opening, per kind.
    filing_window_days = models.JSONField(default=dict, blank=True)
    seller_funded_claim_window_days = models.PositiveIntegerField(null=True, blank=True)
    max_appeals_per_defect = models.PositiveSmallIntegerField(null=True, blank=True)
    explanation_min = models.PositiveIntegerField(null=True, blank=True)
    explanation_max = models.PositiveIntegerField(null=True, blank=True)
    max_files = models.PositiveSmallIntegerField(null=True, blank=True)
    max_file_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    review_hours = models.PositiveIntegerField(null=True, blank=True)
    info_hours = models.PositiveIntegerField(null=True, blank=True)
    # {"fulfilled_by_marketplace": "approve" | "recommend" | "off", ...}
    auto_rules = models.JSONField(default=dict, blank=True)
    # A reviewer's approval must then carry a note to the merchant.
    approval_note_required = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "appeal policies"

    def __str__(self) -> str:
        return f"Appeal policy for {self.marketplace}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from defectdesk.appeals.policy import appeal_policy_validate
        from defectdesk.core.errors import DomainError

        try:
            appeal_policy_validate(self.auto_rules or {}, self.filing_window_days or {})
        except DomainError as exc:
            raise ValidationError({e.field.split(".")[0]: e.message for e in exc.errors}) from exc


class Appeal(models.Model):
    """A merchant's appeal of one defect, from draft to decision."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")

    defect = models.ForeignKey(Defect, on_delete=models.PROTECT, related_name="appeals")
    # The defect's kind (which never changes), kept here so the queue filters on it alone.
    defect_kind = models.CharField(max_length=32, choices=Defect.Kind.choices, default="")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="appeals")
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    reason = models.CharField(max_length=64)
    explanation = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    # "Decision expected by": 48 h after submission (or after the merchant's reply).
    review_due_at = models.DateTimeField(null=True, blank=True)
    info_due_at = models.DateTimeField(null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_appeals",
    )
    # Frozen at submission: the ledger's facts about the order.
    system_evidence = models.JSONField(default=dict, blank=True)
    # Rules that proved the reason but are set to recommend: [{"rule", "facts"}].
    recommendations = models.JSONField(default=list, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by_label = models.CharField(max_length=200, blank=True, default="")
    decision_rule = models.CharField(max_length=64, blank=True, default="")
    # "reviewer", "rule" or "expired".
    decision_cause = models.CharField(max_length=16, blank=True, default="")
    decision_note = models.TextField(blank=True, default="")
    decision_facts = models.JSONField(default=dict, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["defect"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="appeals_one_open_per_defect",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="appeals_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["seller", "status"], name="appeals_seller_status_idx"),
            models.Index(fields=["status", "review_due_at"], name="appeals_queue_idx"),
            models.Index(
                fields=["defect_kind", "status", "review_due_at"], name="appeals_queue_kind_idx"
            ),
            models.Index(fields=["status", "info_due_at"], name="appeals_info_due_idx"),
            # The review queue: open appeals by deadline, read in order without sorting.
            models.Index(
                fields=["review_due_at", "id"],
                condition=models.Q(status__in=sorted(REVIEW_STATUSES)),
                name="appeals_review_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Appeal {self.pk} ({self.status})"

    @property
    def explanation_language(self) -> str:
        """The language the explanation is written in, told by its script ("zh", "en", ...)."""
        from defectdesk.core.language import written_language

        return written_language(self.explanation)

    @property
    def explanation_language_mark(self) -> str:
        """For a reader in the marketplace's language: "Written in Chinese", or "" when the
        explanation is in the marketplace's own language (or its language is unknown)."""
        from defectdesk.core.language import written_language_name

        written = self.explanation_language
        home = (self.marketplace.default_language or "en").split("-")[0]
        if not written or written == home:
            return ""
        return str(_("Written in %(language)s; shown exactly as the seller wrote it.")) % {
            "language": written_language_name(written)
        }

    @property
    def status_text(self) -> str:
        """The state as the merchant reads it; a denial for a missed reply says so."""
        if self.status == Status.DENIED and self.decision_cause == "expired":
            return str(_("Denied: the reply deadline passed"))
        return str(self.get_status_display())

    @property
    def decided_by_text(self) -> str:
        """Who decided, as the merchant reads it (an automatic rule is not a person's name)."""
        label = self.decided_by_label
        if label.startswith("rule:"):
            return str(_("automatically, by the marketplace's rules"))
        return label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AppealMessage(models.Model):
    """A reviewer's information request or the merchant's reply."""

    class Kind(models.TextChoices):
        QUESTION = "question", _("Information request")
        REPLY = "reply", _("Reply")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_label = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on appeal {self.appeal_id}"


class AppealFile(models.Model):
    """A merchant's supporting file, stored under a server-generated name."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="files")
    reply = models.ForeignKey(
        AppealMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="files"
    )
    original_name = models.CharField(max_length=200)
    storage_name = models.CharField(max_length=255, unique=True)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by_label = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="appeals_file_not_empty")
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
