"""Mirror mode: a seller's account on an external marketplace, the raw documents imported
from it, its own health snapshots, the requests prepared for it and the SP-API connection."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from defectdesk.accounts.models import Seller
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Marketplace


class MirrorAccount(models.Model):
    """A seller's account on an external marketplace (e.g. amazon.com), fed by its reports."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="mirror_accounts")
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    site = models.CharField(max_length=32)
    amazon_marketplace_id = models.CharField(max_length=32)
    # Amazon's selling-partner (merchant) id, once a document names it; a document naming
    # another one is refused.
    selling_partner_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_import_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "marketplace"], name="mirror_one_account_per_marketplace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.seller_id} on {self.site}"


class RawDocument(models.Model):
    """One document as the marketplace gave it, kept byte for byte so it can be re-read."""

    class Status(models.TextChoices):
        IMPORTED = "imported", "Imported"
        NOT_APPLICABLE = "not_applicable", "Not applicable"
        REFUSED = "refused", "Refused"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        CLI = "cli", "Command line"
        CONNECTOR = "connector", "SP-API connection"

    account = models.ForeignKey(MirrorAccount, on_delete=models.PROTECT, related_name="documents")
    report_type = models.CharField(max_length=80)
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    size = models.PositiveBigIntegerField()
    filename = models.CharField(max_length=200, blank=True, default="")
    encoding = models.CharField(max_length=32, blank=True, default="")
    window_from = models.DateField(null=True, blank=True)
    window_to = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    summary = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()
    received_by_label = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "report_type", "sha256"], name="mirror_one_document_per_hash"
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_type} {self.sha256[:12]}"


class HealthSnapshot(models.Model):
    """Amazon's own account health (the V2 seller performance report) at one moment."""

    account = models.ForeignKey(MirrorAccount, on_delete=models.PROTECT, related_name="snapshots")
    document = models.ForeignKey(RawDocument, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    account_status = models.CharField(max_length=32, blank=True, default="")
    # Amazon's performance metrics of this account's marketplace, as it sent them.
    metrics = models.JSONField(default=dict)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"snapshot {self.pk} of {self.account_id}"


class MirrorCase(models.Model):
    """A request prepared for the external marketplace, and what it answered (recorded by the
    merchant: DefectDesk never decides these)."""

    class Kind(models.TextChoices):
        FEEDBACK_REMOVAL = "feedback_removal", "Feedback removal request"
        A_TO_Z_RESPONSE = "a_to_z_response", "A-to-z claim response"
        CHARGEBACK_REPRESENTMENT = "chargeback_representment", "Chargeback representment"
        DEFECT_APPEAL = "defect_appeal", "Appeal"
        PLAN_OF_ACTION = "plan_of_action", "Plan of Action"

    class Status(models.TextChoices):
        PREPARED = "prepared", "Prepared"
        EXPORTED = "exported", "Exported"
        SUBMITTED = "submitted", "Submitted to Amazon"
        INFO_REQUESTED = "info_requested", "Amazon asked for information"
        APPROVED = "approved", "Approved by Amazon"
        DENIED = "denied", "Denied by Amazon"
        WITHDRAWN = "withdrawn", "Withdrawn"

    account = models.ForeignKey(MirrorAccount, on_delete=models.PROTECT, related_name="cases")
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    defect = models.ForeignKey(
        Defect, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_ref = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREPARED)
    criterion = models.CharField(max_length=64, blank=True, default="")
    body = models.TextField(blank=True, default="")
    fields = models.JSONField(default=dict, blank=True)
    # Amazon's rule (e.g. 90 days after the feedback) and, when it asks for more, its deadline.
    due_at = models.DateTimeField(null=True, blank=True)
    amazon_deadline = models.DateTimeField(null=True, blank=True)
    amazon_reference = models.CharField(max_length=100, blank=True, default="")
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    exported_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["defect", "kind"],
                condition=models.Q(
                    status__in=["prepared", "exported", "submitted", "info_requested"]
                ),
                name="mirror_one_open_case_per_defect",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "prepared",
                        "exported",
                        "submitted",
                        "info_requested",
                        "approved",
                        "denied",
                        "withdrawn",
                    ]
                ),
                name="mirror_case_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"


class HiddenFact(models.Model):
    """Something the marketplace's reports never show, entered by the merchant from its
    e-mail: an A-to-z claim, a chargeback, or a request for information."""

    class Kind(models.TextChoices):
        A_TO_Z_CLAIM = "a_to_z_claim", "A-to-z Guarantee claim"
        CHARGEBACK = "chargeback", "Chargeback"
        INFO_REQUEST = "info_request", "Information request"

    account = models.ForeignKey(MirrorAccount, on_delete=models.PROTECT, related_name="facts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    order_ref = models.CharField(max_length=64)
    reason = models.CharField(max_length=32)
    deadline = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True, default="")
    event_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField()
    created_by_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.order_ref}"


class SpApiConnection(models.Model):
    """The merchant's own SP-API credentials for one account, encrypted at rest."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Reconnect needed"
        DISCONNECTED = "disconnected", "Disconnected"

    account = models.OneToOneField(
        MirrorAccount, on_delete=models.PROTECT, related_name="connection"
    )
    # A Fernet token of {"client_id", "client_secret", "refresh_token"}; never shown again.
    secret = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices)
    message = models.CharField(max_length=300, blank=True, default="")
    connected_at = models.DateTimeField()
    last_sync_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"SP-API connection of {self.account_id} ({self.status})"


class SyncReport(models.Model):
    """One report the connector asked Amazon for: requested, polled, downloaded, imported."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be requested"
        REQUESTED = "requested", "Requested"
        DOWNLOADED = "downloaded", "Downloaded and imported"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(
        SpApiConnection, on_delete=models.CASCADE, related_name="reports"
    )
    report_type = models.CharField(max_length=80)
    window_from = models.DateField()
    window_to = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    report_id = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField()
    message = models.CharField(max_length=300, blank=True, default="")
    document = models.ForeignKey(
        RawDocument, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["next_try_at", "id"]

    def __str__(self) -> str:
        return f"{self.report_type} {self.status}"
