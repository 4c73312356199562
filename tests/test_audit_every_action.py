"""Every public function of an actions module is classified; every state change is run here and
writes exactly one audit event naming its actor, seller (where it has one), time and request id."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from defectdesk.core.actors import Actor
from defectdesk.core.audit import reset_request_id, set_request_id
from defectdesk.core.models import AuditEvent
from tests.test_appeal_support import media  # noqa: F401

MODULES = ["accounts", "appeals", "defects", "ledger", "messaging", "notify", "policy", "webhooks"]
# Modules of actions outside an app's `actions` module, by dotted path under defectdesk.
MORE_MODULES = [
    "appeals.policy",
    "mirror.actions",
    "mirror.importing",
    "mirror.connector",
]

RUN_HERE = "state change, run by this test"
IN_APPEALS = "state change on an appeal, a defect, a message or a policy, run by this test"
INSIDE = "runs inside its caller's transaction, which writes the one audit event (policy_set)"
ELSEWHERE = "state change whose one audit event is checked in its own tests (test_mirror_audit.py)"
COMPOSED = "composes the actions above in one transaction: one audit event per step, run here"
QUEUED = "the job of a change its caller audited (policy_set queues it with its one event)"
NOT_AUDITED = "not a state change of its own (a helper, a read, or bookkeeping of deliveries)"

CLASSIFIED: dict[str, str] = {
    "accounts.seller_ensure": NOT_AUDITED,
    "accounts.operator_group": NOT_AUDITED,
    "accounts.user_create": RUN_HERE,
    "accounts.membership_set": RUN_HERE,
    "accounts.user_set_password": RUN_HERE,
    "accounts.user_deactivate": RUN_HERE,
    "accounts.invitation_create": RUN_HERE,
    "accounts.invitation_accept": RUN_HERE,
    "accounts.token_create": RUN_HERE,
    "accounts.token_revoke": RUN_HERE,
    "accounts.staff_roles_set": RUN_HERE,
    "accounts.marketplace_remember": NOT_AUDITED,
    "accounts.time_zone_set": RUN_HERE,
    "accounts.language_set": RUN_HERE,
    "appeals.actor_of": NOT_AUDITED,
    "appeals.writer_check": NOT_AUDITED,
    "appeals.appeal_create": IN_APPEALS,
    "appeals.appeal_update": IN_APPEALS,
    "appeals.appeal_attach": IN_APPEALS,
    "appeals.appeal_submit": IN_APPEALS,
    "appeals.appeal_file": COMPOSED,
    "appeals.policy.appeal_rules_for": NOT_AUDITED,
    "appeals.policy.appeal_policy_validate": NOT_AUDITED,
    "appeals.policy.appeal_policy_errors": NOT_AUDITED,
    "appeals.policy.appeal_policy_set": RUN_HERE,
    "appeals.policy.marketplace_policy_set": COMPOSED,
    "appeals.appeal_withdraw": IN_APPEALS,
    "appeals.appeal_reply": IN_APPEALS,
    "appeals.appeal_assign": IN_APPEALS,
    "appeals.appeal_request_info": IN_APPEALS,
    "appeals.appeal_decide": IN_APPEALS,
    "appeals.appeal_expire": IN_APPEALS,
    "appeals.appeals_expire_due": IN_APPEALS,
    "appeals.appeals_flag_overdue": IN_APPEALS,
    "defects.defect_remove_by_appeal": IN_APPEALS,
    "ledger.marketplace_set": RUN_HERE,
    "messaging.message_reply": IN_APPEALS,
    "notify.seller_user_ids": NOT_AUDITED,
    "notify.reviewer_user_ids": NOT_AUDITED,
    "notify.absolute_url": NOT_AUDITED,
    "notify.notify_users": NOT_AUDITED,
    "notify.outbox_deliver": NOT_AUDITED,
    "notify.notification_mark_read": NOT_AUDITED,
    "policy.policy_set": IN_APPEALS,
    "policy.marketplace_replay": INSIDE,
    "policy.policy_replay_run": QUEUED,
    "webhooks.webhook_endpoint_register": RUN_HERE,
    "webhooks.webhook_endpoint_rotate": RUN_HERE,
    "webhooks.webhook_endpoint_disable": RUN_HERE,
    "webhooks.webhook_endpoint_enable": RUN_HERE,
    "webhooks.webhook_delivery_resend": RUN_HERE,
    # Mirror mode: each audit event is checked in tests/test_mirror_audit.py.
    "mirror.actions.mirror_account_create": ELSEWHERE,
    "mirror.actions.case_open": ELSEWHERE,
    "mirror.actions.case_edit": ELSEWHERE,
    "mirror.actions.case_export": ELSEWHERE,
    "mirror.actions.case_record": ELSEWHERE,
    "mirror.actions.case_draft": ELSEWHERE,
    "mirror.actions.plan_of_action_build": ELSEWHERE,
    "mirror.actions.hidden_fact_enter": ELSEWHERE,
    "mirror.importing.amazon_import": ELSEWHERE,
    "mirror.importing.max_document_bytes": NOT_AUDITED,
    "mirror.connector.connection_save": ELSEWHERE,
    "mirror.connector.connection_disconnect": ELSEWHERE,
    "mirror.connector.sync_schedule": ELSEWHERE,
    "mirror.connector.sync_run": ELSEWHERE,
}


def _public_functions() -> set[str]:
    found = set()
    for app in MODULES:
        module = importlib.import_module(f"defectdesk.{app}.actions")
        for name, obj in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and obj.__module__ == module.__name__:
                found.add(f"{app}.{name}")
    for path in MORE_MODULES:
        module = importlib.import_module(f"defectdesk.{path}")
        for name, obj in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and obj.__module__ == module.__name__:
                found.add(f"{path}.{name}")
    return found


def test_every_public_action_function_is_classified() -> None:
    found = _public_functions()
    assert sorted(found - CLASSIFIED.keys()) == [], "classify these in CLASSIFIED"
    assert sorted(CLASSIFIED.keys() - found) == [], "these no longer exist"


def _runners(cast: dict[str, Any], who: Actor) -> dict[str, Callable[[], int | None]]:
    from defectdesk.accounts import actions as accounts
    from defectdesk.accounts.models import Seller
    from defectdesk.appeals.policy import appeal_policy_set
    from defectdesk.core.actors import SYSTEM
    from defectdesk.ledger.actions import marketplace_set
    from defectdesk.ledger.models import Marketplace
    from defectdesk.webhooks import actions as hooks
    from defectdesk.webhooks.models import WebhookDelivery
    from defectdesk.webhooks.outbox import webhook_emit

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

    def invite() -> int | None:
        seller = Seller.objects.get(pk=s1)
        accounts.invitation_create(actor=who, seller=seller, email="eve@s1.example", role="staff")
        return s1

    # Made before any runner is measured: accepting is its own state change.
    waiting = accounts.invitation_create(
        actor=who, seller=Seller.objects.get(pk=s1), email="otto@staff.example", role="staff"
    )[1]

    def accept() -> int | None:
        accounts.invitation_accept(actor=who, key=waiting, user=cast["otto"])
        return s1

    # Made before the runs (their own audit events come before the ones counted).
    endpoint = hooks.webhook_endpoint_register(
        actor=SYSTEM, url="https://hooks.example.com/dd", event_types=["message.sent"]
    )[0]
    disabled = hooks.webhook_endpoint_register(
        actor=SYSTEM, url="https://hooks.example.com/off", event_types=["message.sent"]
    )[0]
    hooks.webhook_endpoint_disable(actor=SYSTEM, endpoint=disabled)
    with transaction.atomic():
        webhook_emit("message.sent", {"message_id": "m1"}, seller_id=s1)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    return {
        "webhooks.webhook_endpoint_register": lambda: (
            hooks.webhook_endpoint_register(
                actor=who, url="https://hooks.example.com/x", event_types=["defect.opened"]
            )
            and None
        ),
        "webhooks.webhook_endpoint_rotate": lambda: (
            hooks.webhook_endpoint_rotate(actor=who, endpoint=endpoint) and None
        ),
        "webhooks.webhook_endpoint_disable": lambda: (
            hooks.webhook_endpoint_disable(actor=who, endpoint=endpoint) and None
        ),
        "webhooks.webhook_endpoint_enable": lambda: (
            hooks.webhook_endpoint_enable(actor=who, endpoint=disabled) and None
        ),
        "webhooks.webhook_delivery_resend": lambda: (
            hooks.webhook_delivery_resend(actor=who, delivery=delivery) and s1
        ),
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
        "accounts.user_deactivate": lambda: (
            accounts.user_deactivate(actor=who, username="bob") and None
        ),
        "accounts.token_create": create_token,
        "accounts.invitation_create": invite,
        "accounts.invitation_accept": accept,
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
        "appeals.policy.appeal_policy_set": lambda: (
            appeal_policy_set(
                actor=who,
                marketplace=Marketplace.objects.get(code="US"),
                filing_window_days={},
                hours={"info_hours": 24},
                auto_rules={},
            )
            and None
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


def _one_event(number: int, name: str, run: Callable[[], Any]) -> AuditEvent:
    """Run one state change as request `req-<number>`: exactly one audit event, returned.

    Not inside a transaction of the test's own: the actions that store files own theirs."""
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    token = set_request_id(f"req-{number}")
    try:
        run()
    finally:
        reset_request_id(token)
    events = list(AuditEvent.objects.filter(id__gt=before))
    assert len(events) == 1, (name, [e.action for e in events])
    event = events[0]
    assert event.request_id == f"req-{number}", name
    assert event.occurred_at is not None and event.actor_label, name
    return event


@pytest.mark.django_db
@pytest.mark.usefixtures("media")
def test_each_appeal_defect_message_and_policy_change_writes_one_audit_event(
    cast: dict[str, Any], make_event: Any
) -> None:
    import time_machine

    from defectdesk.accounts.roles import principal_for_user
    from defectdesk.appeals import actions as appeals
    from defectdesk.appeals.models import Appeal
    from defectdesk.defects.actions import defect_remove_by_appeal
    from defectdesk.ledger.models import Marketplace, Order
    from defectdesk.messaging.actions import message_reply
    from defectdesk.policy.actions import policy_set
    from tests.test_appeal_support import EXPLANATION, NOW, negative_feedback, png_bytes

    alice, rita, otto = cast["alice"], cast["rita"], cast["otto"]
    with time_machine.travel(NOW, tick=False):
        defects = [
            negative_feedback(make_event, order=f"111-000000{n}-000000{n}") for n in range(1, 8)
        ]
    s1 = defects[0].seller_id

    def submitted(defect: Any, *, asked: bool = False) -> Appeal:
        appeal = appeals.appeal_create(
            actor=alice, defect=defect, reason="other", explanation=EXPLANATION
        )
        appeals.appeal_submit(actor=alice, appeal=appeal)
        if asked:
            appeals.appeal_assign(actor=rita, appeal=appeal, reviewer="rita")
            appeals.appeal_request_info(actor=rita, appeal=appeal, question="A photo, please?")
        return Appeal.objects.get(pk=appeal.pk)

    with time_machine.travel(NOW, tick=False):
        made: dict[str, Any] = {}
        withdrawn = submitted(defects[1])
        expiring = submitted(defects[2], asked=True)
        expiring_by_job = submitted(defects[3], asked=True)
        overdue = submitted(defects[4])
    later = NOW + timedelta(days=30)
    order = Order.objects.get(order_ref=defects[5].order.order_ref)

    def create() -> None:
        made["a"] = appeals.appeal_create(
            actor=alice, defect=defects[0], reason="other", explanation=EXPLANATION
        )

    # (name, run, actor id, seller id, audited action), in the order of an appeal's life.
    steps: list[tuple[str, Callable[[], Any], int | None, int | None, str]] = [
        ("appeals.appeal_create", create, alice.pk, s1, "appeal.create"),
        (
            "appeals.appeal_update",
            lambda: appeals.appeal_update(
                actor=alice, appeal=made["a"], explanation=EXPLANATION + " Updated."
            ),
            alice.pk,
            s1,
            "appeal.update",
        ),
        (
            "appeals.appeal_attach",
            lambda: appeals.appeal_attach(
                actor=alice,
                appeal=made["a"],
                uploads=[("box \u7bb1\u5b50 \U0001f4e6.png", png_bytes())],
            ),
            alice.pk,
            s1,
            "appeal.attach",
        ),
        (
            "appeals.appeal_submit",
            lambda: appeals.appeal_submit(actor=alice, appeal=made["a"]),
            alice.pk,
            s1,
            "appeal.submit",
        ),
        (
            "appeals.appeal_assign",
            lambda: appeals.appeal_assign(actor=rita, appeal=made["a"], reviewer="rita"),
            rita.pk,
            s1,
            "appeal.assign",
        ),
        (
            "appeals.appeal_request_info",
            lambda: appeals.appeal_request_info(
                actor=rita, appeal=made["a"], question="Which carrier? <b>=1+1</b>"
            ),
            rita.pk,
            s1,
            "appeal.request_info",
        ),
        (
            "appeals.appeal_reply",
            lambda: appeals.appeal_reply(actor=alice, appeal=made["a"], message="UPS, 1Z999."),
            alice.pk,
            s1,
            "appeal.reply",
        ),
        (
            "appeals.appeal_decide",
            lambda: appeals.appeal_decide(
                actor=rita, appeal=made["a"], decision="deny", note="Not enough."
            ),
            rita.pk,
            s1,
            "appeal.deny",
        ),
        (
            "appeals.appeal_withdraw",
            lambda: appeals.appeal_withdraw(actor=alice, appeal=withdrawn),
            alice.pk,
            s1,
            "appeal.withdraw",
        ),
        (
            "messaging.message_reply",
            lambda: message_reply(
                actor=Actor(user=alice),
                principal=principal_for_user(alice),
                order=order,
                body="Sorry \u2014 \u5bf9\u4e0d\u8d77 \U0001f64f",
            ),
            alice.pk,
            s1,
            "message",
        ),
        (
            "defects.defect_remove_by_appeal",
            lambda: defect_remove_by_appeal(
                defect=defects[6], appeal_id=withdrawn.pk, at=NOW, actor=Actor(user=rita)
            ),
            rita.pk,
            s1,
            "defect_remove_by_appeal",
        ),
        (
            "policy.policy_set",
            lambda: policy_set(
                marketplace=Marketplace.objects.get(code="US"),
                profile={},
                actor=Actor(user=otto),
            ),
            otto.pk,
            None,
            "policy_set",
        ),
    ]
    later_steps: list[tuple[str, Callable[[], Any], int | None, int | None, str]] = [
        (
            "appeals.appeal_expire",
            lambda: appeals.appeal_expire(appeal=expiring, now=later),
            None,
            s1,
            "appeal.",
        ),
        (
            "appeals.appeals_expire_due",
            lambda: appeals.appeals_expire_due(now=later),
            None,
            s1,
            "appeal.",
        ),
        (
            "appeals.appeals_flag_overdue",
            lambda: appeals.appeals_flag_overdue(now=later),
            None,
            s1,
            "appeal.overdue",
        ),
    ]
    ran: list[str] = []
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        for number, (name, run, actor, seller, action) in enumerate(steps, start=100):
            event = _one_event(number, name, run)
            assert event.action.startswith(action), (name, event.action)
            assert event.actor_id == actor and event.seller_id == seller, name
            ran.append(name)
    with time_machine.travel(later, tick=False):
        for number, (name, run, actor, seller, action) in enumerate(later_steps, start=200):
            event = _one_event(number, name, run)
            assert event.action.startswith(action), (name, event.action)
            assert event.actor_id == actor and event.seller_id == seller, name
            assert "rule" in event.actor_label or event.actor_label == "system", name
            ran.append(name)
    for appeal in (expiring, expiring_by_job):
        assert Appeal.objects.get(pk=appeal.pk).status == "denied"
    assert Appeal.objects.get(pk=overdue.pk).overdue_flagged_at is not None
    assert sorted(ran) == sorted(k for k, v in CLASSIFIED.items() if v == IN_APPEALS)
    print(f"\naudit: {len(ran)} appeal, defect, message and policy actions run")


@pytest.mark.django_db
@pytest.mark.usefixtures("media")
def test_an_approval_writes_one_event_for_the_appeal_and_one_for_the_defect(
    cast: dict[str, Any], make_event: Any
) -> None:
    import time_machine

    from defectdesk.appeals import actions as appeals
    from tests.test_appeal_support import EXPLANATION, NOW, negative_feedback

    with time_machine.travel(NOW, tick=False):
        defect = negative_feedback(make_event)
        appeal = appeals.appeal_create(
            actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
        )
        appeals.appeal_submit(actor=cast["alice"], appeal=appeal)
        appeals.appeal_assign(actor=cast["rita"], appeal=appeal, reviewer="rita")
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        token = set_request_id("req-approve")
        try:
            appeals.appeal_decide(actor=cast["rita"], appeal=appeal, decision="approve")
        finally:
            reset_request_id(token)
    events = list(AuditEvent.objects.filter(id__gt=before).order_by("id"))
    assert [e.action for e in events] == ["appeal.approve", "defect_remove_by_appeal"] or [
        e.action for e in events
    ] == ["defect_remove_by_appeal", "appeal.approve"], [e.action for e in events]
    assert sorted((e.object_type, e.object_id) for e in events) == sorted(
        [("appeal", str(appeal.pk)), ("defect", str(defect.pk))]
    )
    assert {e.request_id for e in events} == {"req-approve"}
    assert {e.actor_id for e in events} == {cast["rita"].pk}
    assert {e.seller_id for e in events} == {defect.seller_id}


@pytest.mark.django_db
@pytest.mark.usefixtures("media")
def test_filing_an_appeal_writes_one_event_per_step_it_takes(
    cast: dict[str, Any], make_event: Any
) -> None:
    import time_machine

    from defectdesk.appeals import actions as appeals
    from tests.test_appeal_support import EXPLANATION, NOW, negative_feedback, png_bytes

    assert [k for k, v in CLASSIFIED.items() if v == COMPOSED] == [
        "appeals.appeal_file",
        "appeals.policy.marketplace_policy_set",
    ]
    alice = cast["alice"]
    with time_machine.travel(NOW, tick=False):
        defect = negative_feedback(make_event)
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        token = set_request_id("req-file")
        try:
            appeal = appeals.appeal_file(
                actor=alice,
                defect=defect,
                reason="other",
                explanation=EXPLANATION,
                uploads=[("label.png", png_bytes())],
                submit=True,
            )
        finally:
            reset_request_id(token)
    events = list(AuditEvent.objects.filter(id__gt=before).order_by("id"))
    assert [e.action for e in events] == ["appeal.create", "appeal.attach", "appeal.submit"]
    assert {e.request_id for e in events} == {"req-file"}
    assert {e.actor_id for e in events} == {alice.pk}
    assert {e.seller_id for e in events} == {defect.seller_id}
    assert {e.object_id for e in events} == {str(appeal.pk)}


@pytest.mark.django_db
def test_a_policy_change_writes_one_event_for_the_profile_and_one_for_the_appeal_rules(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from defectdesk.appeals.policy import marketplace_policy_set
    from defectdesk.ledger.models import Marketplace
    from defectdesk.policy.models import PolicyReplay

    otto = Actor(user=cast["otto"])
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    token = set_request_id("req-policy")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            marketplace_policy_set(
                actor=otto,
                marketplace=Marketplace.objects.get(code="US"),
                profile={"metrics": {"order_defect_rate": {"kinds": ["a_to_z_claim"]}}},
                appeal={"filing_window_days": {}, "hours": {"info_hours": 24}, "auto_rules": {}},
            )
    finally:
        reset_request_id(token)
    events = list(AuditEvent.objects.filter(id__gt=before).order_by("id"))
    assert [e.action for e in events] == ["policy_set", "appeal_policy_set"]
    assert {e.request_id for e in events} == {"req-policy"}
    assert {e.actor_id for e in events} == {cast["otto"].pk}
    # The recompute is queued as a job (it writes no audit event of its own: policy_set's is it).
    assert PolicyReplay.objects.get().status == "queued"
    assert DBTaskResult.objects.filter(task_path__endswith="policy_replay_job").count() == 1
