"""The SP-API connector: the merchant's own credentials (sealed at rest), reports requested,
polled and downloaded as jobs, with back-off when Amazon throttles or fails.

No credential is ever logged, put in an error message, an audit event or an export: messages
name the failure's kind and status code only.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from defectdesk.core.actors import SYSTEM, Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import DomainError, FieldError, ValidationFailed
from defectdesk.mirror.actions import Caller, _who, _writer
from defectdesk.mirror.crypto import credentials_open, credentials_seal
from defectdesk.mirror.importing import amazon_import
from defectdesk.mirror.models import MirrorAccount, RawDocument, SpApiConnection, SyncReport

log = logging.getLogger(__name__)

# What a scheduled sync asks for: orders, feedback, and the account health snapshot.
SYNC_REPORTS = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_SELLER_FEEDBACK_DATA",
    "GET_V2_SELLER_PERFORMANCE_REPORT",
)
POLL_EVERY = timedelta(seconds=60)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 12
RECONNECT = (
    "Amazon refused the stored credentials (expired, revoked or wrong). Reconnect the account "
    "with a new refresh token; the reports already imported and those waiting are kept."
)


def connection_save(
    *, actor: Caller, account: MirrorAccount, client_id: Any, client_secret: Any, refresh_token: Any
) -> SpApiConnection:
    """Store (or replace) the account's LWA credentials, encrypted; the secret is never shown
    again, logged or audited."""
    principal, who = _who(actor)
    _writer(principal, account.seller_id)
    values = {
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    errors = [
        FieldError(name, "is required")
        for name, value in values.items()
        if not isinstance(value, str) or not value.strip()
    ]
    errors += [
        FieldError(name, "must be at most 2,000 printable characters")
        for name, value in values.items()
        if isinstance(value, str) and (len(value) > 2000 or not value.strip().isprintable())
    ]
    if errors:
        raise ValidationFailed("The Amazon connection was not saved.", errors)
    sealed = credentials_seal({k: str(v).strip() for k, v in values.items()})
    now = timezone.now()
    with transaction.atomic():
        connection, created = SpApiConnection.objects.select_for_update().update_or_create(
            account=account,
            defaults={
                "secret": sealed,
                "status": SpApiConnection.Status.CONNECTED,
                "message": "",
                "connected_at": now,
            },
        )
        audit_record(
            actor=who,
            action="mirror.connection_save",
            object_type="mirror_connection",
            object_id=connection.pk,
            seller_id=account.seller_id,
            to_state=connection.status,
            data={"replaced": not created},
        )
    return connection


def connection_disconnect(*, actor: Caller, account: MirrorAccount) -> None:
    """Forget the credentials; imported documents stay."""
    principal, who = _who(actor)
    _writer(principal, account.seller_id)
    with transaction.atomic():
        connection = SpApiConnection.objects.select_for_update().filter(account=account).first()
        if connection is None:
            return
        connection.secret = ""  # nosec B105 # forgetting the sealed credentials, not a password
        connection.status = SpApiConnection.Status.DISCONNECTED
        connection.message = ""
        connection.save()
        audit_record(
            actor=who,
            action="mirror.connection_disconnect",
            object_type="mirror_connection",
            object_id=connection.pk,
            seller_id=account.seller_id,
            to_state=connection.status,
        )


def sync_schedule(
    *,
    actor: Caller,
    account: MirrorAccount,
    days: int = 30,
    today: date | None = None,
    report_types: tuple[str, ...] = SYNC_REPORTS,
) -> list[SyncReport]:
    """Queue the reports of the last `days` days for the sync job to request and download."""
    principal, who = _who(actor)
    _writer(principal, account.seller_id)
    connection = SpApiConnection.objects.filter(account=account).first()
    if connection is None or connection.status != SpApiConnection.Status.CONNECTED:
        raise ValidationFailed(
            "No sync was scheduled.",
            [FieldError("connection", connection.message if connection else "connect first")],
        )
    if not 1 <= days <= 90:
        raise ValidationFailed("No sync was scheduled.", [FieldError("days", "must be 1 to 90")])
    now = timezone.now()
    end = today or now.date()
    start = end - timedelta(days=days - 1)
    made = []
    with transaction.atomic():
        for report_type in report_types:
            made.append(
                SyncReport.objects.create(
                    connection=connection,
                    report_type=report_type,
                    window_from=start,
                    window_to=end,
                    next_try_at=now,
                    created_at=now,
                )
            )
        audit_record(
            actor=who,
            action="mirror.sync_schedule",
            object_type="mirror_connection",
            object_id=connection.pk,
            seller_id=account.seller_id,
            data={"reports": list(report_types), "from": str(start), "to": str(end)},
        )
    transaction.on_commit(lambda: _enqueue(connection.pk))
    return made


def _enqueue(connection_id: int) -> None:
    from defectdesk.mirror.jobs import sync_job

    sync_job.enqueue(connection_id)


# -- the SP-API side -----------------------------------------------------------------------


def _clients(credentials: dict[str, Any], account: MirrorAccount) -> Any:
    """A python-amazon-sp-api Reports client for the account's marketplace, pointed at the
    configured endpoints (a local fake in tests)."""
    from sp_api.api import Reports
    from sp_api.auth import AccessTokenClient
    from sp_api.base import Marketplaces

    market = next(
        (m for m in Marketplaces if m.marketplace_id == account.amazon_marketplace_id), None
    )
    token_client: type[AccessTokenClient] = AccessTokenClient
    lwa = getattr(settings, "MIRROR_LWA_ENDPOINT", "")
    if lwa:
        scheme, _, host = lwa.partition("://")
        token_client = type(
            "ConfiguredTokenClient", (AccessTokenClient,), {"scheme": f"{scheme}://", "host": host}
        )
    client = Reports(
        marketplace=market or Marketplaces.US,
        refresh_token=credentials["refresh_token"],
        credentials={
            "lwa_app_id": credentials["client_id"],
            "lwa_client_secret": credentials["client_secret"],
        },
        auth_token_client_class=token_client,
        timeout=30,
    )
    endpoint = getattr(settings, "MIRROR_SP_API_ENDPOINT", "")
    if endpoint:
        client.endpoint = endpoint.rstrip("/")
    return client


def _failure(exc: BaseException) -> tuple[str, str]:
    """("retry" | "reconnect" | "fail", a message that names no credential)."""
    from sp_api.auth.exceptions import AuthorizationError
    from sp_api.base.exceptions import (
        SellingApiForbiddenException,
        SellingApiRequestThrottledException,
        SellingApiServerException,
        SellingApiTemporarilyUnavailableException,
    )

    if isinstance(exc, AuthorizationError | SellingApiForbiddenException):
        return "reconnect", RECONNECT
    if isinstance(exc, SellingApiRequestThrottledException):
        return "retry", "Amazon asked us to slow down (429); trying again later."
    if isinstance(exc, SellingApiServerException | SellingApiTemporarilyUnavailableException):
        code = getattr(exc, "code", 500)
        return "retry", f"Amazon failed ({code}); trying again later."
    if isinstance(exc, OSError):
        return "retry", f"Amazon could not be reached ({type(exc).__name__}); trying again later."
    return "fail", f"Amazon answered something unexpected ({type(exc).__name__})."


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _payload(response: Any) -> dict[str, Any]:
    payload = getattr(response, "payload", None)
    return payload if isinstance(payload, dict) else {}


def _step(client: Any, report: SyncReport, account: MirrorAccount, now: datetime) -> None:
    """Move one report a step on: request it, poll it, or download and import it."""
    if report.status == SyncReport.Status.PENDING:
        kwargs: dict[str, Any] = {
            "reportType": report.report_type,
            "marketplaceIds": [account.amazon_marketplace_id],
        }
        if report.report_type != "GET_V2_SELLER_PERFORMANCE_REPORT":
            kwargs["dataStartTime"] = f"{report.window_from.isoformat()}T00:00:00Z"
            kwargs["dataEndTime"] = f"{report.window_to.isoformat()}T23:59:59Z"
        created = _payload(client.create_report(**kwargs))
        report.report_id = str(created.get("reportId", ""))[:64]
        report.status = SyncReport.Status.REQUESTED
        report.next_try_at = now + POLL_EVERY
        report.message = ""
        return
    state = _payload(client.get_report(report.report_id))
    processing = str(state.get("processingStatus", ""))
    if processing in ("CANCELLED", "FATAL"):
        report.status = SyncReport.Status.FAILED
        report.message = f"Amazon could not produce the report ({processing.lower()})."
        return
    if processing != "DONE":
        report.next_try_at = now + POLL_EVERY
        return
    document_id = str(state.get("reportDocumentId", ""))
    # Read as ISO-8859-1, which maps every byte to one character: encoding it back gives the
    # document's bytes exactly as Amazon sent them (after decompression).
    fetched = client.get_report_document(document_id, download=True, character_code="iso-8859-1")
    document = _payload(fetched).get("document", "")
    content = document.encode("iso-8859-1") if isinstance(document, str) else bytes(document)
    imported = amazon_import(
        actor=Actor(rule="amazon_sync"),
        account=account,
        report_type=report.report_type,
        content=content,
        filename=f"{report.report_type}-{report.report_id}",
        window=(report.window_from, report.window_to)
        if report.report_type != "GET_V2_SELLER_PERFORMANCE_REPORT"
        else None,
        source=RawDocument.Source.CONNECTOR,
    )
    report.document = imported.document
    report.status = SyncReport.Status.DOWNLOADED
    report.message = " ".join(imported.lines()[:2])[:300]


def sync_run(connection_id: int, *, now: datetime | None = None) -> int:
    """The job: step every report of the connection that is due; returns how many are still
    waiting. Throttling and server errors back off; refused credentials stop the sync and ask
    the merchant to reconnect, keeping everything else."""
    now = now or timezone.now()
    connection = (
        SpApiConnection.objects.select_related("account", "account__seller", "account__marketplace")
        .filter(pk=connection_id)
        .first()
    )
    if connection is None or connection.status != SpApiConnection.Status.CONNECTED:
        return 0
    account = connection.account
    try:
        client = _clients(credentials_open(connection.secret), account)
    except DomainError as exc:
        _needs_reconnect(connection, exc.detail)
        return 0
    due = list(
        SyncReport.objects.filter(
            connection=connection,
            status__in=[SyncReport.Status.PENDING, SyncReport.Status.REQUESTED],
            next_try_at__lte=now,
        ).order_by("next_try_at", "id")
    )
    for report in due:
        try:
            _step(client, report, account, now)
        except DomainError as exc:
            report.status = SyncReport.Status.FAILED
            report.message = str(exc)[:300]
        except Exception as exc:  # every failure is classified; none escapes the job
            verdict, message = _failure(exc)
            log.warning("amazon sync of %s: %s", report.report_type, message)
            if verdict == "reconnect":
                _needs_reconnect(connection, message)
                report.save()
                break
            report.attempts += 1
            report.message = message[:300]
            if verdict == "fail" or report.attempts >= MAX_ATTEMPTS:
                report.status = SyncReport.Status.FAILED
            else:
                report.next_try_at = now + _backoff(report.attempts)
        report.save()
    SpApiConnection.objects.filter(pk=connection.pk).update(last_sync_at=now)
    return SyncReport.objects.filter(
        connection=connection,
        status__in=[SyncReport.Status.PENDING, SyncReport.Status.REQUESTED],
    ).count()


def _needs_reconnect(connection: SpApiConnection, message: str) -> None:
    with transaction.atomic():
        SpApiConnection.objects.filter(pk=connection.pk).update(
            status=SpApiConnection.Status.NEEDS_RECONNECT, message=message[:300]
        )
        audit_record(
            actor=SYSTEM,
            action="mirror.connection_refused",
            object_type="mirror_connection",
            object_id=connection.pk,
            seller_id=connection.account.seller_id,
            from_state=SpApiConnection.Status.CONNECTED,
            to_state=SpApiConnection.Status.NEEDS_RECONNECT,
            note=message[:300],
        )
    connection.status = SpApiConnection.Status.NEEDS_RECONNECT
    connection.message = message[:300]
    log.warning("amazon connection %s needs reconnecting", connection.pk)
