"""Users: a taken name is refused, passwords change on their own, operators get their admin."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from defectdesk.accounts.actions import staff_roles_set, user_create, user_set_password
from defectdesk.accounts.models import Membership
from defectdesk.core.actors import SYSTEM
from defectdesk.core.errors import NotFound, ValidationFailed
from tests.test_appeal_support import client_for


def test_creating_a_taken_name_is_refused_and_changes_nothing(cast: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        user_create(
            actor=SYSTEM, username="bob", password="another-pass-9", seller="S-1", role="owner"
        )
    assert "'bob' is taken" in refused.value.errors[0].message
    bob = type(cast["bob"]).objects.get(pk=cast["bob"].pk)
    assert bob.check_password("correct-horse-1")
    assert Membership.objects.get(user=bob).role == "read_only"


def test_cli_users_create_refuses_a_taken_name_with_a_non_zero_exit(cast: dict[str, Any]) -> None:
    with pytest.raises(CommandError, match="'alice' is taken"):
        call_command("users", "create", "alice", "--password", "brand-new-pass", "--reviewer")
    assert type(cast["alice"]).objects.get(pk=cast["alice"].pk).check_password("correct-horse-1")


def test_cli_users_set_password_changes_only_the_password(cast: dict[str, Any]) -> None:
    out = StringIO()
    call_command("users", "set-password", "bob", "--password", "brand-new-pass", stdout=out)
    assert "password of bob changed" in out.getvalue()
    bob = type(cast["bob"]).objects.get(pk=cast["bob"].pk)
    assert bob.check_password("brand-new-pass")
    assert Membership.objects.get(user=bob).role == "read_only"
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("users", "set-password", "nobody", "--password", "brand-new-pass")
    with pytest.raises(CommandError, match="password"):
        call_command("users", "set-password", "bob", "--password", "short")


def test_set_password_of_an_unknown_user_is_not_found(cast: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        user_set_password(actor=SYSTEM, username="ghost", password="long-enough-1")


def test_operator_sees_the_admin_models_the_docs_promise(cast: dict[str, Any]) -> None:
    page = client_for(cast["otto"]).get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    for model in ("Appeal policies", "Appeals", "Marketplaces", "Stripe webhooks", "Task Results"):
        assert model in html, model
    assert client_for(cast["otto"]).get("/admin/appeals/appealpolicy/add/").status_code == 200


def test_the_admin_shows_marketplaces_but_changes_them_only_through_their_action(
    cast: dict[str, Any],
) -> None:
    from defectdesk.ledger.models import Marketplace

    otto = client_for(cast["otto"])
    market = Marketplace.objects.get(code="US")
    listed = otto.get("/admin/ledger/marketplace/")
    assert listed.status_code == 200
    assert "America/Los_Angeles" in listed.content.decode()
    assert otto.get("/admin/ledger/marketplace/add/").status_code == 403
    changed = otto.post(
        f"/admin/ledger/marketplace/{market.pk}/change/",
        {"code": "US", "name": "US", "timezone": "Asia/Shanghai", "currency": "USD"},
    )
    assert changed.status_code == 403
    assert Marketplace.objects.get(pk=market.pk).timezone == "America/Los_Angeles"


def test_taking_the_operator_role_away_takes_the_admin_away(cast: dict[str, Any]) -> None:
    rita = cast["rita"]
    staff_roles_set(actor=SYSTEM, user=rita, reviewer=True, operator=True)
    assert "Appeal policies" in client_for(rita).get("/admin/").content.decode()
    staff_roles_set(actor=SYSTEM, user=rita, reviewer=True, operator=False)
    rita.refresh_from_db()
    assert not rita.is_staff and not rita.groups.exists()


def test_the_data_migration_gives_existing_operators_their_admin(cast: dict[str, Any]) -> None:
    from importlib import import_module

    from django.apps import apps

    otto = cast["otto"]
    otto.groups.clear()
    otto.is_staff = False
    otto.save()
    migration = import_module("defectdesk.accounts.migrations.0002_operator_admin_permissions")
    migration.grant(apps, None)
    assert "Appeal policies" in client_for(otto).get("/admin/").content.decode()
