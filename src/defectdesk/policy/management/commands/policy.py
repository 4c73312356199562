"""`defectdesk policy show|set CODE`: a marketplace's policy as JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from defectdesk.core.actors import Actor
from defectdesk.core.errors import DomainError
from defectdesk.ledger.models import Marketplace
from defectdesk.policy.actions import policy_set
from defectdesk.policy.selectors import policy_for


class Command(BaseCommand):
    help = (
        "Show or set a marketplace's policy (metric windows, lags, targets; defect rules). "
        "`set` takes a JSON file (or - for stdin) holding the settings to change; the rest "
        "keep their defaults. A policy with any problem is refused whole."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="print the policy in force as JSON")
        show.add_argument("code", help="marketplace code, e.g. US")
        put = sub.add_parser("set", help="validate and store a policy, recomputing if needed")
        put.add_argument("code", help="marketplace code, e.g. US")
        put.add_argument("file", help="a JSON file with the settings to change, or -")

    def handle(self, *args: Any, **options: Any) -> None:
        market = Marketplace.objects.filter(code=options["code"]).first()
        if market is None:
            raise CommandError(f"Marketplace {options['code']!r} not found.")
        if options["action"] == "show":
            profile = policy_for(market.id).profile
            self.stdout.write(orjson.dumps(profile, option=orjson.OPT_INDENT_2).decode())
            return
        source = options["file"]
        try:
            raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
            profile = orjson.loads(raw)
        except OSError as exc:
            raise CommandError(f"{source}: {exc.strerror}") from exc
        except orjson.JSONDecodeError as exc:
            raise CommandError(f"{source}: not JSON ({exc})") from exc
        try:
            row = policy_set(marketplace=market, profile=profile, actor=Actor(rule="cli"))
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"policy of {market.code} is now version {row.version}")
