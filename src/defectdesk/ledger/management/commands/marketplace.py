"""`defectdesk marketplace set CODE --timezone TZ --currency CUR [--name NAME]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from defectdesk.core.actors import SYSTEM
from defectdesk.core.errors import DomainError
from defectdesk.ledger.actions import marketplace_set
from defectdesk.ledger.models import Marketplace
from defectdesk.ledger.rebuild import ledger_rebuild


class Command(BaseCommand):
    help = "Create or update a marketplace (`set`), or list them (`list`)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        set_ = sub.add_parser("set", help="create or update a marketplace")
        set_.add_argument("code", help="marketplace code, e.g. US")
        set_.add_argument("--timezone", required=True, help="IANA zone, e.g. America/Los_Angeles")
        set_.add_argument("--currency", required=True, help="ISO 4217 code, e.g. USD")
        set_.add_argument("--name", default=None, help="display name")
        set_.add_argument(
            "--language",
            default=None,
            help="default interface language of its sellers: en or zh-hans (default en)",
        )
        sub.add_parser("list", help="list marketplaces")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for m in Marketplace.objects.all():
                self.stdout.write(
                    f"{m.code}\t{m.name}\t{m.timezone}\t{m.currency}\t{m.default_language}"
                )
            return
        try:
            market, rebuild = marketplace_set(
                actor=SYSTEM,
                code=options["code"],
                timezone=options["timezone"],
                currency=options["currency"],
                name=options["name"],
                language=options["language"],
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("marketplace %(code)s: %(name)s, %(tz)s, %(currency)s, %(language)s")
            % {
                "code": market.code,
                "name": market.name,
                "tz": market.timezone,
                "currency": market.currency,
                "language": market.default_language,
            }
        )
        if rebuild:
            self.stdout.write(_("time zone changed: recomputing order dates and metrics ..."))
            ledger_rebuild()
