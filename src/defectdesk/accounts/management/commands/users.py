"""`defectdesk users create NAME --password P (--seller S --role R | --reviewer | --operator)`
`defectdesk users set-password NAME --password P`, `defectdesk users reset-two-factor NAME` and
`defectdesk users deactivate NAME`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from defectdesk.accounts.actions import user_create, user_deactivate, user_set_password
from defectdesk.accounts.two_factor import second_factor_reset
from defectdesk.core.actors import SYSTEM
from defectdesk.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a user (a taken name is refused), change a password, or deactivate a user."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a user")
        create.add_argument("name", help="user name")
        create.add_argument("--password", required=True)
        create.add_argument("--email", default="")
        role = create.add_mutually_exclusive_group(required=True)
        role.add_argument("--seller", help="seller external id, e.g. S-1001")
        role.add_argument("--reviewer", action="store_true", help="marketplace reviewer")
        role.add_argument("--operator", action="store_true", help="operator admin")
        create.add_argument(
            "--role", choices=["owner", "staff", "read_only"], help="role at --seller"
        )
        password = sub.add_parser("set-password", help="change an existing user's password")
        password.add_argument("name", help="user name")
        password.add_argument("--password", required=True)
        reset = sub.add_parser(
            "reset-two-factor", help="remove a user's authenticator app and recovery codes"
        )
        reset.add_argument("name", help="user name")
        deactivate = sub.add_parser(
            "deactivate", help="sign a user out everywhere and refuse their sign-in and tokens"
        )
        deactivate.add_argument("name", help="user name")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "deactivate":
            try:
                user_deactivate(actor=SYSTEM, username=options["name"])
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{options['name']} deactivated: signed out everywhere")
            return
        if options["action"] == "reset-two-factor":
            try:
                second_factor_reset(actor=SYSTEM, username=options["name"])
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                _("two-factor sign-in of %(name)s reset (set up again at next sign-in)")
                % {"name": options["name"]}
            )
            return
        if options["action"] == "set-password":
            try:
                user = user_set_password(
                    actor=SYSTEM, username=options["name"], password=options["password"]
                )
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(_("password of %(name)s changed") % {"name": user.get_username()})
            return
        if options["seller"] and not options["role"]:
            raise CommandError(_("--seller needs --role owner|staff|read_only"))
        try:
            user = user_create(
                actor=SYSTEM,
                username=options["name"],
                password=options["password"],
                email=options["email"],
                seller=options["seller"],
                role=options["role"],
                reviewer=options["reviewer"],
                operator=options["operator"],
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("user %(name)s created") % {"name": user.get_username()})
