"""Every public function of an actions module is classified; each state change run here writes
exactly one audit event naming its actor, seller, time and request id."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from defectdesk.core.actors import Actor
from defectdesk.core.audit import reset_request_id, set_request_id
from defectdesk.core.models import AuditEvent

MODULES = ["accounts", "appeals", "defects", "ledger", "messaging", "notify", "policy"]

RUN_HERE = "state change, run by this test"
ELSEWHERE = "state change needing an appeal or a ledger; its audit event is checked in its tests"
NOT_AUDITED = "not a state change of its own (a helper, a read, or bookkeeping of deliveries)"

CLASSIFIED: dict[str, str] = {
    "accounts.seller_ensure": NOT_AUDITED,
    "accounts.operator_group": NOT_AUDITED,
    "accounts.user_create": RUN_HERE,
    "accounts.membership_set": RUN_HERE,
    "accounts.user_set_password": RUN_HERE,
    "accounts.token_create": RUN_HERE,
    "accounts.token_revoke": RUN_HERE,
    "accounts.staff_roles_set": RUN_HERE,
    "accounts.marketplace_remember": NOT_AUDITED,
    "accounts.time_zone_set": RUN_HERE,
    "accounts.language_set": RUN_HERE,
    "appeals.actor_of": NOT_AUDITED,
    "appeals.writer_check": NOT_AUDITED,
    "appeals.appeal_create": ELSEWHERE,
    "appeals.appeal_update": ELSEWHERE,
    "appeals.appeal_attach": ELSEWHERE,
    "appeals.appeal_submit": ELSEWHERE,
    "appeals.appeal_withdraw": ELSEWHERE,
    "appeals.appeal_reply": ELSEWHERE,
    "appeals.appeal_assign": ELSEWHERE,
    "appeals.appeal_request_info": ELSEWHERE,
    "appeals.appeal_decide": ELSEWHERE,
    "appeals.appeal_expire": ELSEWHERE,
    "appeals.appeals_expire_due": ELSEWHERE,
    "appeals.appeals_flag_overdue": ELSEWHERE,
    "appeals.evidence_sweep_orphans": NOT_AUDITED,
    "defects.defect_remove_by_appeal": ELSEWHERE,
    "ledger.marketplace_set": RUN_HERE,
    "messaging.message_reply": ELSEWHERE,
    "notify.seller_user_ids": NOT_AUDITED,
    "notify.reviewer_user_ids": NOT_AUDITED,
    "notify.absolute_url": NOT_AUDITED,
    "notify.notify_users": NOT_AUDITED,
    "notify.outbox_deliver": NOT_AUDITED,
    "notify.notification_mark_read": NOT_AUDITED,
    "policy.policy_set": ELSEWHERE,
    "policy.marketplace_replay": ELSEWHERE,
}


def _public_functions() -> set[str]:
    found = set()
    for app in MODULES:
        module = importlib.import_module(f"defectdesk.{app}.actions")
        for name, obj in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and obj.__module__ == module.__name__:
                found.add(f"{app}.{name}")
    return found


def test_every_public_action_function_is_classified() -> None:
    found = _public_functions()
    assert sorted(found - CLASSIFIED.keys()) == [], "classify these in CLASSIFIED"
    assert sorted(CLASSIFIED.keys() - found) == [], "these no longer exist"


def _runners(cast: dict[str, Any], who: Actor) -> dict[str, Callable[[], int | None]]:
    from defectdesk.accounts import actions as accounts
    from defectdesk.accounts.models import Seller
    from defectdesk.ledger.actions import marketplace_set

    s1 = Seller.objects.get(external_id="S-1").pk

    made: dict[str, Any] = {}

    def create_token() -> int | None:
        made["token"] = accounts.token_create(actor=who, name="ci", seller="S-1")
        return s1

    def revoke_token() -> int | None:
        created = made.get("token") or accounts.token_create(actor=who, name="ci", seller="S-1")
        token_obj = created[0] if isinstance(created, tuple) else created
        accounts.token_revoke(actor=who, token_id=token_obj.pk)
        return s1

    return {
        "accounts.user_create": lambda: (
            accounts.user_create(
                actor=who, username="dora", password="correct-horse-9", seller="S-1", role="owner"
            )
            and s1
        ),
        "accounts.membership_set": lambda: (
            accounts.membership_set(actor=who, username="rita", seller="S-1", role="read_only")
            and s1
        ),
        "accounts.user_set_password": lambda: (
            accounts.user_set_password(actor=who, username="bob", password="another-horse-7")
            and None
        ),
        "accounts.token_create": create_token,
        "accounts.token_revoke": revoke_token,
        "accounts.staff_roles_set": lambda: (
            accounts.staff_roles_set(actor=who, user=cast["bob"], reviewer=True, operator=False)
            and None
        ),
        "accounts.time_zone_set": lambda: accounts.time_zone_set(
            actor=who, user=cast["alice"], time_zone="Europe/Berlin"
        ),
        "accounts.language_set": lambda: accounts.language_set(
            actor=who, user=cast["alice"], language="zh-hans"
        ),
        "ledger.marketplace_set": lambda: (
            marketplace_set(
                actor=who, code="DE", timezone="Europe/Berlin", currency="EUR", name="Germany"
            )
            and None
        ),
    }


@pytest.mark.django_db
def test_each_state_change_writes_one_audit_event_with_actor_seller_time_and_request(
    cast: dict[str, Any],
) -> None:
    who = Actor(user=cast["otto"])
    runners = _runners(cast, who)
    assert sorted(runners) == sorted(k for k, v in CLASSIFIED.items() if v == RUN_HERE)
    for number, (name, run) in enumerate(sorted(runners.items())):
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        token = set_request_id(f"req-{number}")
        try:
            with transaction.atomic():
                seller = run()
        finally:
            reset_request_id(token)
        events = list(AuditEvent.objects.filter(id__gt=before))
        assert len(events) == 1, (name, [e.action for e in events])
        event = events[0]
        assert event.request_id == f"req-{number}", name
        assert event.occurred_at is not None, name
        assert event.actor_label, name
        assert event.actor_id == cast["otto"].pk, name
        if seller is not None:
            assert event.seller_id == seller, name
    print(f"\naudit: {len(runners)} actions run, {len(CLASSIFIED)} functions classified")
