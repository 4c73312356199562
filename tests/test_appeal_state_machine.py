"""A Hypothesis state machine over every appeal action, by every role, checking the invariants:

at most one open appeal per defect; decided appeals never change; exactly one audit event per
transition; a refused action changes nothing; a defect is removed exactly when an approved
appeal (or a removal event) says so; only the roles allowed succeed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from defectdesk.accounts.roles import principal_for_user
from defectdesk.appeals import actions
from defectdesk.appeals.models import Appeal, AppealMessage
from defectdesk.appeals.transitions import OPEN_STATUSES, TRANSITIONS
from defectdesk.core.errors import DomainError
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from tests.test_appeal_support import (
    EXPLANATION,
    NOW,
    ingest,
    media,  # noqa: F401 - fixture
    negative_feedback,
    png_bytes,
)

ROLES = ("alice", "bob", "carol", "rita", "otto")
# Weighted towards the roles that may act, so that runs get deep into the workflow.
MERCHANTS = st.sampled_from(("alice", "alice", "alice", "alice", "carol", "bob", "rita", "otto"))
STAFF = st.sampled_from(("rita", "rita", "rita", "rita", "otto", "alice", "bob", "carol"))
WRITERS = {"S-1": {"alice"}, "S-2": {"carol"}}
REVIEWERS = {"rita"}
MERCHANT_ACTIONS = {"create", "update", "attach", "submit", "withdraw", "reply"}
REVIEWER_ACTIONS = {"assign", "request_info", "decide"}


def _snapshot() -> tuple[Any, ...]:
    return (
        list(
            Appeal.objects.order_by("id").values_list(
                "id",
                "status",
                "reason",
                "explanation",
                "assigned_to_id",
                "review_due_at",
                "info_due_at",
                "decided_at",
                "decision_note",
            )
        ),
        AuditEvent.objects.count(),
        AppealMessage.objects.count(),
        list(Defect.objects.order_by("id").values_list("id", "status", "removed_by_appeal_id")),
    )


def _transition_chain_ok(appeal: Appeal) -> bool:
    """The audit events that change state form one allowed path ending at the current status."""
    steps = list(
        AuditEvent.objects.filter(object_type="appeal", object_id=str(appeal.pk))
        .exclude(from_state=models_same())
        .order_by("id")
        .values_list("from_state", "to_state")
    )
    current = ""
    for before, after in steps:
        if before != current:
            return False
        if before and after not in TRANSITIONS[before]:
            return False
        current = after
    return current == appeal.status


def models_same() -> Any:
    """Audit events of changes that are not transitions (edits, files) keep the state."""
    return F("to_state")


class AppealMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # A savepoint, not an atomic block: actions that store files run in transactions of
        # their own (durable), which may nest only in the test case's own transaction.
        self.savepoint = transaction.savepoint()
        self.clock = time_machine.travel(NOW, tick=False)
        self.traveller = self.clock.start()
        self.decided: dict[int, tuple[Any, ...]] = {}
        self.removal_events: set[int] = set()

    def teardown(self) -> None:
        self.clock.stop()
        transaction.savepoint_rollback(self.savepoint)

    # -- plumbing --------------------------------------------------------------------------
    def _appeal(self, pick: int) -> Appeal | None:
        """One of the newest appeals (pick 0 is the newest)."""
        ids = list(Appeal.objects.order_by("-id").values_list("pk", flat=True)[:4])
        return Appeal.objects.get(pk=ids[pick % len(ids)]) if ids else None

    def _attempt(self, role: str, kind: str, seller: str | None, call: Any) -> None:
        before = _snapshot()
        try:
            call()
        except DomainError:
            assert _snapshot() == before, f"{role} {kind}: a refused action changed data"
            return
        if kind in MERCHANT_ACTIONS:
            assert seller is not None and role in WRITERS[seller], f"{role} did {kind}"
        if kind in REVIEWER_ACTIONS:
            assert role in REVIEWERS, f"{role} did {kind}"

    def _who(self, role: str) -> Any:
        return principal_for_user(CAST[role])

    @initialize()
    def start_with_open_appeals(self) -> None:
        """S-1: one appeal submitted, one in review; S-2: a draft (runs start mid-workflow)."""
        for defect, reviewer in ((DEFECTS[0], None), (DEFECTS[1], "rita")):
            appeal = actions.appeal_create(
                actor=CAST["alice"], defect=defect.pk, reason="other", explanation=EXPLANATION
            )
            actions.appeal_submit(actor=CAST["alice"], appeal=appeal)
            if reviewer:
                actions.appeal_assign(actor=CAST["rita"], appeal=appeal, reviewer=reviewer)
        actions.appeal_create(
            actor=CAST["carol"], defect=DEFECTS[2].pk, reason="other", explanation=EXPLANATION
        )

    # -- rules -----------------------------------------------------------------------------
    @rule(
        role=MERCHANTS,
        defect=st.integers(0, 3),
        reason=st.sampled_from(["other", "product_review_only", "refunded_before_claim"]),
        good=st.booleans(),
    )
    def create(self, role: str, defect: int, reason: str, good: bool) -> None:
        target = DEFECTS[defect % len(DEFECTS)]
        self._attempt(
            role,
            "create",
            target.seller.external_id,
            lambda: actions.appeal_create(
                actor=self._who(role),
                defect=target.pk,
                reason=reason,
                explanation=EXPLANATION if good else "short",
            ),
        )

    @rule(role=MERCHANTS, pick=st.integers(0, 3), good=st.booleans())
    def update(self, role: str, pick: int, good: bool) -> None:
        appeal = self._appeal(pick)
        if appeal is not None:
            self._attempt(
                role,
                "update",
                appeal.seller.external_id,
                lambda: actions.appeal_update(
                    actor=self._who(role),
                    appeal=appeal,
                    explanation=EXPLANATION + " Edited." if good else "x" * 5000,
                ),
            )

    @rule(role=MERCHANTS, pick=st.integers(0, 3), good=st.booleans())
    def attach(self, role: str, pick: int, good: bool) -> None:
        appeal = self._appeal(pick)
        if appeal is not None:
            upload = ("photo.png", png_bytes()) if good else ("photo.png", b"<svg/>")
            self._attempt(
                role,
                "attach",
                appeal.seller.external_id,
                lambda: actions.appeal_attach(
                    actor=self._who(role), appeal=appeal, uploads=[upload]
                ),
            )

    @rule(role=MERCHANTS, pick=st.integers(0, 3))
    def submit(self, role: str, pick: int) -> None:
        appeal = self._appeal(pick)
        if appeal is not None:
            self._attempt(
                role,
                "submit",
                appeal.seller.external_id,
                lambda: actions.appeal_submit(actor=self._who(role), appeal=appeal),
            )

    @rule(role=MERCHANTS, pick=st.integers(0, 3))
    def withdraw(self, role: str, pick: int) -> None:
        appeal = self._appeal(pick)
        if appeal is not None:
            self._attempt(
                role,
                "withdraw",
                appeal.seller.external_id,
                lambda: actions.appeal_withdraw(actor=self._who(role), appeal=appeal),
            )

    @rule(role=STAFF, pick=st.integers(0, 3), reviewer=st.sampled_from(["rita", "alice", "nobody"]))
    def assign(self, role: str, pick: int, reviewer: str) -> None:
        appeal = self._appeal(pick)
        if appeal is not None:
            self._attempt(
                role,
                "assign",
                appeal.seller.external_id,
                lambda: actions.appeal_assign(
                    actor=self._who(role), appeal=appeal, reviewer=reviewer
                ),
            )
            if reviewer != "rita":
                assert Appeal.objects.get(pk=appeal.pk).assigned_to_id in (None, CAST["rita"].pk)

    @rule(role=STAFF, pick=st.integers(0, 3))
    def request_info(self, role: str, pick: int) -> None:
        appeal = self._appeal(pick)
        if appeal is not None:
            self._attempt(
                role,
                "request_info",
                appeal.seller.external_id,
                lambda: actions.appeal_request_info(
                    actor=self._who(role), appeal=appeal, question="Photos?"
                ),
            )

    @rule(role=MERCHANTS, pick=st.integers(0, 3), with_file=st.booleans())
    def reply(self, role: str, pick: int, with_file: bool) -> None:
        appeal = self._appeal(pick)
        if appeal is not None:
            uploads = [("reply.png", png_bytes("green"))] if with_file else []
            self._attempt(
                role,
                "reply",
                appeal.seller.external_id,
                lambda: actions.appeal_reply(
                    actor=self._who(role), appeal=appeal, message="Here.", uploads=uploads
                ),
            )

    @rule(
        role=STAFF, pick=st.integers(0, 3), decision=st.sampled_from(["approve", "deny", "maybe"])
    )
    def decide(self, role: str, pick: int, decision: str) -> None:
        appeal = self._appeal(pick)
        if appeal is not None:
            self._attempt(
                role,
                "decide",
                appeal.seller.external_id,
                lambda: actions.appeal_decide(
                    actor=self._who(role), appeal=appeal, decision=decision, note="Decided."
                ),
            )

    @rule(hours=st.sampled_from([1, 24, 49, 73]))
    def time_passes(self, hours: int) -> None:
        self.traveller.shift(timedelta(hours=hours))
        actions.appeals_expire_due()
        actions.appeals_flag_overdue()

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def one_open_appeal_per_defect(self) -> None:
        SEEN.update(Appeal.objects.values_list("status", flat=True))
        for defect in DEFECTS:
            assert (
                Appeal.objects.filter(defect_id=defect.pk, status__in=sorted(OPEN_STATUSES)).count()
                <= 1
            )

    @invariant()
    def decided_appeals_never_change(self) -> None:
        for row in Appeal.objects.filter(status__in=["approved", "denied"]).values_list(
            "pk",
            "status",
            "decided_at",
            "decided_by_label",
            "decision_note",
            "updated_at",
            "explanation",
            "reason",
        ):
            assert self.decided.setdefault(row[0], row) == row

    @invariant()
    def one_audit_event_per_transition(self) -> None:
        for appeal in Appeal.objects.all():
            assert _transition_chain_ok(appeal), appeal.pk

    @invariant()
    def defect_removed_exactly_when_an_approval_says_so(self) -> None:
        for defect in Defect.objects.filter(pk__in=[d.pk for d in DEFECTS]):
            approved = Appeal.objects.filter(defect=defect, status="approved").first()
            if approved is not None:
                assert defect.status == Defect.Status.REMOVED
                assert defect.removed_by_appeal_id == approved.pk
                assert defect.removal_cause == Defect.RemovalCause.APPEAL
            else:
                assert defect.removed_by_appeal_id is None
                assert (defect.status == Defect.Status.REMOVED) == (defect.pk in REMOVED_BY_EVENT)


CAST: dict[str, Any] = {}
DEFECTS: list[Defect] = []
REMOVED_BY_EVENT: set[int] = set()
SEEN: set[str] = set()


@pytest.mark.usefixtures("media")
def test_appeal_actions_by_every_role_keep_the_invariants(
    cast: dict[str, Any], make_event: Any
) -> None:
    CAST.clear()
    CAST.update(cast)
    with time_machine.travel(NOW, tick=False):
        DEFECTS[:] = [
            negative_feedback(make_event, order="111-0000001-0000001"),
            negative_feedback(make_event, order="111-0000002-0000002", fulfillment="marketplace"),
            negative_feedback(make_event, order="222-0000001-0000001", seller="S-2"),
        ]
        # A fourth, removed by the ledger itself: appeals on it are refused.
        removed = negative_feedback(make_event, order="111-0000003-0000003")
        ingest(
            make_event(
                "feedback.removed",
                order="111-0000003-0000003",
                at="2026-10-07T00:00:00Z",
                feedback_id="FB-111-0000003-0000003",
            )
        )
        removed.refresh_from_db()
        if removed.status == Defect.Status.REMOVED:
            DEFECTS.append(removed)
            REMOVED_BY_EVENT.add(removed.pk)
    run_state_machine_as_test(
        AppealMachine,
        settings=settings(
            max_examples=20,
            derandomize=True,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    # The machine reached every state (a run that never gets there proves little).
    assert {
        "draft",
        "submitted",
        "in_review",
        "info_requested",
        "approved",
        "denied",
        "withdrawn",
    } <= SEEN, SEEN
