"""`defectdesk import --amazon REPORT_TYPE FILE...`: Amazon documents into a mirror account."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, OutputWrapper

from defectdesk.accounts.models import Seller
from defectdesk.core.actors import SYSTEM
from defectdesk.core.errors import DomainError
from defectdesk.mirror.actions import mirror_account_create
from defectdesk.mirror.importing import amazon_import
from defectdesk.mirror.models import MirrorAccount, RawDocument
from defectdesk.mirror.profile import SITES
from defectdesk.mirror.reports import DocumentError, report_kind


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name}: {value!r} is not a date such as 2026-10-31") from None


def amazon_import_files(options: dict[str, Any], stdout: OutputWrapper) -> None:
    """Import each file as the given report type into the seller's account on the site."""
    try:
        report_kind(options["amazon"])
    except DocumentError as exc:
        raise CommandError(str(exc)) from None
    seller_ref = options.get("seller")
    if not seller_ref:
        raise CommandError("--amazon needs --seller (the seller whose Amazon account this is)")
    site = options.get("site") or "amazon.com"
    if site not in SITES:
        raise CommandError(f"--site must be one of {', '.join(SITES)}")
    seller = Seller.objects.filter(external_id=seller_ref).first()
    if seller is None:
        raise CommandError(f"no seller {seller_ref!r}; create it with `defectdesk users create`")
    start, end = _day(options.get("from"), "from"), _day(options.get("to"), "to")
    if (start is None) != (end is None):
        raise CommandError("give both --from and --to (the report's window), or neither")
    window = (start, end) if start is not None and end is not None else None
    account = MirrorAccount.objects.filter(seller=seller, site=site).first()
    if account is None:
        account = mirror_account_create(actor=SYSTEM, seller=seller, site=site)
    failed = False
    for path in options["files"]:
        try:
            content = Path(path).read_bytes()
            report = amazon_import(
                actor=SYSTEM,
                account=account,
                report_type=options["amazon"],
                content=content,
                filename=Path(path).name,
                window=window,
                source=RawDocument.Source.CLI,
            )
        except OSError as exc:
            stdout.write(f"{path}: {exc.strerror or exc}")
            failed = True
            continue
        except DomainError as exc:
            stdout.write(f"{path}: {exc}")
            failed = True
            continue
        stdout.write(f"{path}:")
        for line in report.lines():
            stdout.write(f"  {line}")
        failed = failed or bool(report.rejected)
    if failed:
        raise CommandError("some rows or files were refused", returncode=1)
