"""The action that takes one Amazon document into a mirror account: keep it, read it, ingest
its events, infer feedback removals, and say what happened."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import FieldError, ValidationFailed
from defectdesk.core.timeutil import day_end, day_start, zone
from defectdesk.ledger.ingest import Candidate, IngestResult, events_ingest
from defectdesk.ledger.models import Event
from defectdesk.mirror.actions import Caller, _who, _writer
from defectdesk.mirror.models import HealthSnapshot, MirrorAccount, RawDocument
from defectdesk.mirror.profile import SITES
from defectdesk.mirror.reports import (
    DocumentError,
    Parsed,
    ReportKind,
    document_decode,
    document_read,
    redact_emails,
    report_kind,
)

BATCH = 5000


def max_document_bytes() -> int:
    return int(getattr(settings, "MIRROR_MAX_DOCUMENT_BYTES", 100 * 1024 * 1024))


@dataclass
class ImportReport:
    """What one import did, in numbers and sentences."""

    document: RawDocument
    created: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    inferred_removals: int = 0
    not_applicable: str = ""
    already_imported: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "rejected": [{"line": line, "message": msg} for line, msg in self.rejected[:1000]],
            "rejected_count": len(self.rejected),
            "skipped": self.skipped,
            "inferred_removals": self.inferred_removals,
            "not_applicable": self.not_applicable,
        }

    @classmethod
    def of(cls, document: RawDocument) -> ImportReport:
        s = document.summary or {}
        return cls(
            document,
            created=0,
            duplicates=int(s.get("created", 0)) + int(s.get("duplicates", 0)),
            rejected=[(int(r["line"]), str(r["message"])) for r in s.get("rejected", [])],
            skipped=dict(s.get("skipped", {})),
            not_applicable=str(s.get("not_applicable", "")),
            already_imported=True,
        )

    def lines(self) -> list[str]:
        """The summary a person reads (CLI and upload page alike)."""
        doc = self.document
        out = []
        if self.already_imported:
            out.append(
                f"This document was already imported on {doc.received_at:%Y-%m-%d %H:%M} UTC "
                f"(sha256 {doc.sha256[:12]}): nothing changed."
            )
        if self.not_applicable:
            out.append(f"Not applicable, kept but not imported: {self.not_applicable}")
            return out
        if not self.already_imported:
            out.append(
                f"{self.created:,} events created, {self.duplicates:,} already in your data, "
                f"{len(self.rejected):,} refused."
            )
        if self.inferred_removals:
            out.append(
                f"{self.inferred_removals} feedback no longer listed in a report that covers "
                "its date: marked removed (inferred)."
            )
        for reason, count in sorted(self.skipped.items()):
            out.append(f"Skipped {count:,} {reason}.")
        for line, message in self.rejected[:50]:
            out.append(f"Line {line}: {message}")
        if len(self.rejected) > 50:
            out.append(f"... and {len(self.rejected) - 50:,} more refused rows.")
        return out


def _refuse(detail: str, field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(detail, [FieldError(field_name, message)])


def _import_checked(
    report_type: str, content: bytes, window: tuple[date, date] | None
) -> ReportKind:
    """The kind of a document about to be imported; ValidationFailed when the type is not
    known, the document is empty or too large, or the window given runs backwards."""
    try:
        kind = report_kind(report_type)
    except DocumentError as exc:
        raise _refuse("The report type is not known.", "report_type", str(exc)) from None
    if not content:
        raise _refuse("The document was not imported.", "file", "is empty")
    if len(content) > max_document_bytes():
        raise _refuse(
            "The document was not imported.",
            "file",
            f"is {len(content):,} bytes; the limit is {max_document_bytes():,}",
        )
    if window is not None and window[0] > window[1]:
        raise _refuse("The document was not imported.", "window", "starts after it ends")
    return kind


def _account_read(account: MirrorAccount, kind: ReportKind, text: str) -> Parsed:
    """The document read for this account; ValidationFailed when it cannot be read as its
    kind or names another Amazon seller account than this one's."""
    try:
        parsed = document_read(kind, text, SITES[account.site], account.seller.external_id)
    except DocumentError as exc:
        raise _refuse(f"The {kind.label} document was not imported.", "file", str(exc)) from None
    foreign = {s for s in parsed.seller_ids if s != account.selling_partner_id}
    if foreign and account.selling_partner_id:
        raise _refuse(
            f"The {kind.label} document was not imported.",
            "file",
            f"it belongs to Amazon seller account {sorted(foreign)[0][:40]}, not to this "
            f"account ({account.selling_partner_id})",
        )
    return parsed


def _facts_take(
    account: MirrorAccount,
    kind: ReportKind,
    parsed: Parsed,
    document: RawDocument,
    report: ImportReport,
    shown_window: tuple[date, date] | None,
    now: datetime,
) -> None:
    """Take an applicable document's facts: its events into the ledger, feedback it no longer
    lists as removed, its health snapshot; and mark the account's first import."""
    _ingest(parsed, account, report)
    if kind.reader == "feedback" and shown_window is not None:
        report.inferred_removals = _infer_removals(
            account, parsed, shown_window, document.sha256, now, report
        )
    if parsed.snapshot is not None:
        HealthSnapshot.objects.create(
            account=account,
            document=document,
            received_at=now,
            account_status=str(parsed.snapshot.get("status", ""))[:32],
            metrics=parsed.snapshot.get("metrics") or {},
        )
    if account.first_import_at is None:
        MirrorAccount.objects.filter(pk=account.pk).update(first_import_at=now)
        account.first_import_at = now


def _import_audited(who: Actor, report: ImportReport) -> None:
    """Audit an import with what it did."""
    document = report.document
    audit_record(
        actor=who,
        action="mirror.document_import",
        object_type="mirror_document",
        object_id=document.pk,
        seller_id=document.account.seller_id,
        to_state=document.status,
        note=f"{document.report_type} {document.sha256[:12]}",
        data={
            "report_type": document.report_type,
            "sha256": document.sha256,
            "created": report.created,
            "duplicates": report.duplicates,
            "rejected": len(report.rejected),
            "inferred_removals": report.inferred_removals,
        },
    )


def amazon_import(
    *,
    actor: Caller,
    account: MirrorAccount,
    report_type: str,
    content: bytes,
    filename: str = "",
    window: tuple[date, date] | None = None,
    source: str = RawDocument.Source.UPLOAD,
    encoding: str = "",
) -> ImportReport:
    """Keep one Amazon document and take its facts into the ledger (a no-op when the same
    bytes were imported before); refuse, naming why, one that cannot be read as its type or
    that belongs to another seller's account."""
    principal, who = _who(actor)
    _writer(principal, account.seller_id)
    kind = _import_checked(report_type, content, window)
    site = SITES[account.site]
    sha = hashlib.sha256(content).hexdigest()
    known = RawDocument.objects.filter(account=account, report_type=kind.code, sha256=sha).first()
    if known is not None:
        return ImportReport.of(known)
    text, used = document_decode(content, site, encoding)
    parsed = _account_read(account, kind, text)
    stored = content
    redacted = 0
    if kind.reader == "feedback":
        # The rater's e-mail is personal data: the kept copy holds a hash of it instead.
        clean, redacted = redact_emails(text)
        stored = clean.encode("utf-8")
    shown_window = window or parsed.window
    now = timezone.now()
    try:
        with transaction.atomic():
            document = RawDocument.objects.create(
                account=account,
                report_type=kind.code,
                sha256=sha,
                content=stored,
                size=len(content),
                filename=filename[:200],
                encoding="utf-8 (e-mails hashed)" if redacted else used,
                window_from=shown_window[0] if shown_window else None,
                window_to=shown_window[1] if shown_window else None,
                source=source,
                status=(
                    RawDocument.Status.NOT_APPLICABLE
                    if parsed.not_applicable
                    else RawDocument.Status.IMPORTED
                ),
                received_at=now,
                received_by_label=who.label,
            )
            report = ImportReport(
                document, rejected=list(parsed.rejects), skipped=dict(parsed.skipped)
            )
            report.not_applicable = parsed.not_applicable
            if not parsed.not_applicable:
                _facts_take(account, kind, parsed, document, report, shown_window, now)
            document.summary = report.as_dict()
            document.save(update_fields=["summary"])
            _import_audited(who, report)
    except IntegrityError:
        # The same document, imported at the same moment by another request, won the race.
        twin = RawDocument.objects.filter(
            account=account, report_type=kind.code, sha256=sha
        ).first()
        if twin is None:
            raise
        return ImportReport.of(twin)
    return report


def _existing(ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 2000):
        found.update(
            Event.objects.filter(event_id__in=ids[start : start + 2000]).values_list(
                "event_id", flat=True
            )
        )
    return found


# Events whose facts Amazon may restate differently later (a total once an item ships): the
# first import stands, a later one with the same id is counted as already known.
# A feedback id's versions are in the event id, so a known id is that same version.
FIRST_STANDS = (
    "order.placed",
    "order.cancelled",
    "claim.filed",
    "chargeback.filed",
    "feedback.posted",
)


def _ingest(parsed: Parsed, account: MirrorAccount, report: ImportReport) -> None:
    events = parsed.events
    known = _existing([e["id"] for e in events if e["type"] in FIRST_STANDS])
    fresh = [e for e in events if e["id"] not in known]
    report.duplicates += len(events) - len(fresh)
    _after_earlier_versions(fresh, account)
    total = IngestResult()
    for start in range(0, len(fresh), BATCH):
        chunk = fresh[start : start + BATCH]
        total.merge(events_ingest([Candidate(start + i, e) for i, e in enumerate(chunk)]))
    report.created += total.created
    report.duplicates += total.duplicates
    for reject in total.rejected:
        event = fresh[reject.position]
        message = "; ".join(f"{e.field}: {e.message}" for e in reject.errors)
        report.rejected.append((0, f"event {event['id']} of order {event['order']}: {message}"))


def _after_earlier_versions(events: list[dict[str, Any]], account: MirrorAccount) -> None:
    """A feedback the buyer revised keeps its day in Amazon's report: its new version is put
    just after the versions already imported, so that it is the one in force."""
    posted = [e for e in events if e["type"] == "feedback.posted"]
    if not posted:
        return
    latest: dict[str, datetime] = {}
    rows = Event.objects.filter(
        marketplace_id=account.marketplace_id,
        type="feedback.posted",
        order_ref__in=sorted({e["order"] for e in posted}),
    ).values_list("data__feedback_id", "occurred_at")
    for feedback_id, at in rows:
        if feedback_id not in latest or at > latest[feedback_id]:
            latest[feedback_id] = at
    for event in posted:
        before = latest.get(event["data"]["feedback_id"])
        if before is not None and datetime.fromisoformat(event["occurred_at"]) <= before:
            event["occurred_at"] = (before + timedelta(seconds=1)).isoformat()


def _infer_removals(
    account: MirrorAccount,
    parsed: Parsed,
    window: tuple[date, date],
    sha: str,
    now: datetime,
    report: ImportReport,
) -> int:
    """Feedback this account imported before, dated inside the report's window, that the
    report no longer lists: Amazon removed it (or the buyer raised it above 3 stars)."""
    tz = zone(account.marketplace.timezone)
    start, end = day_start(window[0], tz), day_end(window[1], tz)
    posted = Event.objects.filter(
        marketplace_id=account.marketplace_id,
        seller_id=account.seller_id,
        type="feedback.posted",
        occurred_at__gte=start,
        occurred_at__lt=end,
        data__source="amazon:feedback",
    ).values_list("order_ref", "data", "occurred_at")
    gone: dict[str, tuple[str, datetime]] = {}
    for order_ref, data, at in posted:
        feedback_id = str(data.get("feedback_id", ""))
        if feedback_id and feedback_id not in parsed.feedback_ids:
            gone[feedback_id] = (order_ref, at)
    if not gone:
        return 0
    removed = set(
        Event.objects.filter(
            marketplace_id=account.marketplace_id,
            seller_id=account.seller_id,
            type="feedback.removed",
            order_ref__in=[o for o, _ in gone.values()],
        ).values_list("data__feedback_id", flat=True)
    )
    at = min(now, end)
    events = [
        {
            "id": f"{feedback_id}-removed-inferred",
            "type": "feedback.removed",
            "occurred_at": max(at, posted_at).isoformat(),
            "marketplace": account.marketplace.code,
            "seller": account.seller.external_id,
            "order": order_ref,
            "data": {
                "feedback_id": feedback_id,
                "reason": (
                    f"Inferred: not in Amazon's feedback report of {window[0]} to {window[1]}, "
                    "which covers its date (removed, or raised above 3 stars by the buyer)"
                ),
                "inferred": True,
                "source": "amazon:feedback",
                "document": sha[:12],
            },
        }
        for feedback_id, (order_ref, posted_at) in sorted(gone.items())
        if feedback_id not in removed
    ]
    if not events:
        return 0
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    for reject in result.rejected:
        message = "; ".join(f"{e.field}: {e.message}" for e in reject.errors)
        report.rejected.append((0, f"inferred removal {reject.event_id}: {message}"))
    return result.created
