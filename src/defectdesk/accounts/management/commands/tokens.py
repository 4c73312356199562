"""`defectdesk tokens create --name N (--seller S [--read-only] | --scope ...)` and `revoke`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from defectdesk.accounts.actions import token_create, token_revoke
from defectdesk.accounts.models import ApiToken
from defectdesk.core.actors import SYSTEM
from defectdesk.core.errors import DomainError


class Command(BaseCommand):
    help = "Create (printed once), list or revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it once")
        create.add_argument("--name", required=True)
        scope = create.add_mutually_exclusive_group(required=True)
        scope.add_argument("--seller", help="a token for one seller")
        scope.add_argument("--scope", help="comma-separated: ingest,review,admin")
        create.add_argument("--read-only", action="store_true", help="with --seller: read only")
        revoke = sub.add_parser("revoke", help="revoke a token by id or prefix")
        revoke.add_argument("token", help="token id or its prefix (as listed)")
        sub.add_parser("list", help="list tokens (never their secrets)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                scopes = [s.strip() for s in (options["scope"] or "").split(",") if s.strip()]
                if options["read_only"] and not options["seller"]:
                    raise CommandError("--read-only goes with --seller")
                token, raw = token_create(
                    actor=SYSTEM,
                    name=options["name"],
                    seller=options["seller"],
                    read_only=options["read_only"],
                    scopes=scopes,
                )
                self.stderr.write(
                    f"token {token.pk} ({token.prefix}) created; it is shown only this once:"
                )
                self.stdout.write(raw)
            elif options["action"] == "revoke":
                ref = options["token"]
                token = (
                    token_revoke(actor=SYSTEM, token_id=int(ref))
                    if ref.isdigit()
                    else token_revoke(actor=SYSTEM, prefix=ref)
                )
                self.stdout.write(f"token {token.pk} ({token.prefix}) revoked")
            else:
                for t in ApiToken.objects.select_related("seller"):
                    scope = f"seller {t.seller.external_id}" if t.seller else ",".join(t.scopes)
                    state = "revoked" if t.revoked_at else "active"
                    used = t.last_used_at.isoformat() if t.last_used_at else "never used"
                    self.stdout.write(f"{t.pk}\t{t.prefix}\t{t.name}\t{scope}\t{state}\t{used}")
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
