"""Requests for Amazon: drafted in the shape of its forms, refused where Amazon's rules refuse
them, recorded as the merchant reports Amazon's answers; an approval changes the ODR."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from defectdesk.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Event
from defectdesk.metrics.health import scope_for, seller_health
from defectdesk.mirror import packets
from defectdesk.mirror.actions import (
    case_draft,
    case_edit,
    case_export,
    case_record,
    hidden_fact_enter,
    plan_of_action_build,
)
from defectdesk.mirror.models import HiddenFact, MirrorCase
from defectdesk.mirror.profile import amazon_rules
from tests.mirror_support import account_for, feedback_tsv, finances_json, load, orders_tsv

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ORDERS = [f"111-0000005-00000{n:02d}" for n in range(1, 11)]


def _world(alice: Any) -> Any:
    account = account_for(alice)
    load(
        account,
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        orders_tsv([(ref, "2026-10-01T10:00:00-07:00", "Shipped", "MFN") for ref in ORDERS]),
    )
    load(
        account,
        "GET_SELLER_FEEDBACK_DATA",
        feedback_tsv(
            [
                ("10/05/26", 1, "You idiots sent it late", ORDERS[0]),
                ("10/05/26", 1, "Mug cracked in the microwave, poor glaze", ORDERS[1]),
                ("10/05/26", 2, "Never arrived, seller did not answer", ORDERS[2]),
                ("08/01/26", 1, "Call me on 555-123-4567", ORDERS[3]),
            ]
        ),
    )
    load(
        account,
        "LIST_FINANCIAL_EVENTS",
        finances_json(claims=[(ORDERS[4], "2026-11-01T10:00:00Z")]),
    )
    return account


def _defect(order: str, kind: str = "negative_feedback") -> Defect:
    return Defect.objects.get(order__order_ref=order, kind=kind)


def _odr(account: Any) -> dict[str, Any]:
    scope = scope_for(account.seller, account.marketplace.code)
    return seller_health(scope, date(2026, 11, 20))["metrics"]["order_defect_rate"]


@time_machine.travel(NOW, tick=False)
def test_feedback_removal_only_for_a_fitting_criterion_within_90_days(cast: dict[str, Any]) -> None:
    alice = cast["alice"]
    account = _world(alice)
    abusive = _defect(ORDERS[0])
    with pytest.raises(ValidationFailed) as exc:
        case_draft(actor=alice, account=account, defect=abusive, criterion="product_review_only")
    assert "speaks of the seller's service ('sent')" in str(exc.value) or "'late'" in str(exc.value)
    with pytest.raises(ValidationFailed) as exc:
        case_draft(
            actor=alice, account=account, defect=_defect(ORDERS[2]), criterion="obscene_or_abusive"
        )
    assert "no obscene or abusive words" in str(exc.value)
    with pytest.raises(ValidationFailed) as exc:
        case_draft(actor=alice, account=account, defect=abusive, criterion="fulfilled_by_amazon")
    assert "fulfilled by you, not by Amazon" in str(exc.value)
    with pytest.raises(ValidationFailed) as exc:
        case_draft(actor=alice, account=account, defect=abusive, criterion="")
    assert "Choose the reason" in str(exc.value)
    # August's feedback is past Amazon's 90 days, whatever it says.
    with pytest.raises(ValidationFailed) as exc:
        case_draft(
            actor=alice,
            account=account,
            defect=_defect(ORDERS[3]),
            criterion="personal_information",
        )
    assert "within 90 days" in str(exc.value) and "111 days old" in str(exc.value)
    assert MirrorCase.objects.count() == 0
    case = case_draft(actor=alice, account=account, defect=abusive, criterion="obscene_or_abusive")
    assert case.kind == "feedback_removal" and case.status == "prepared"
    assert ORDERS[0] in case.body and "obscene or abusive" in case.body
    assert len(case.body) <= amazon_rules().feedback_removal_chars
    assert case.due_at == datetime(2027, 1, 3, 7, 0, tzinfo=UTC)
    product = case_draft(
        actor=alice, account=account, defect=_defect(ORDERS[1]), criterion="product_review_only"
    )
    assert product.criterion == "product_review_only"
    with pytest.raises(Conflict):
        case_draft(actor=alice, account=account, defect=abusive, criterion="obscene_or_abusive")


@time_machine.travel(NOW, tick=False)
def test_recording_amazons_approval_removes_the_feedback_and_the_odr_falls(
    cast: dict[str, Any],
) -> None:
    alice = cast["alice"]
    account = _world(alice)
    before = _odr(account)
    case = case_draft(
        actor=alice, account=account, defect=_defect(ORDERS[0]), criterion="obscene_or_abusive"
    )
    case = case_edit(actor=alice, case=case, body=case.body + "\nThank you.")
    case = case_export(actor=alice, case=case)
    assert case.status == "exported"
    with pytest.raises(InvalidTransition):
        case_record(actor=alice, case=case, outcome="approved")
    case = case_record(actor=alice, case=case, outcome="submitted", reference="CASE-1")
    with pytest.raises(ValidationFailed):
        case_record(actor=alice, case=case, outcome="info_requested")
    case = case_record(
        actor=alice,
        case=case,
        outcome="info_requested",
        deadline=datetime(2026, 11, 23, tzinfo=UTC),
    )
    assert case.amazon_deadline == datetime(2026, 11, 23, tzinfo=UTC)
    case = case_record(actor=alice, case=case, outcome="submitted")
    case = case_record(actor=alice, case=case, outcome="approved", note="Amazon removed it")
    assert case.status == "approved" and case.decided_at == NOW
    removed = Event.objects.get(event_id=f"amz-case-{case.pk}-approved")
    assert removed.type == "feedback.removed"
    assert _defect(ORDERS[0]).status == "removed"
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        after = _odr(account)
    assert after["numerator"] == before["numerator"] - 1, (before, after)
    actions = list(
        AuditEvent.objects.filter(object_type="mirror_case", object_id=str(case.pk))
        .order_by("id")
        .values_list("action", "from_state", "to_state", "actor_label")
    )
    assert [a[0] for a in actions] == [
        "mirror.case_open",
        "mirror.case_edit",
        "mirror.case_export",
        "mirror.case_submitted",
        "mirror.case_info_requested",
        "mirror.case_submitted",
        "mirror.case_approved",
    ]
    assert {a[3] for a in actions} == {"alice"}
    with pytest.raises(InvalidTransition):
        case_record(actor=alice, case=case, outcome="denied")


@time_machine.travel(NOW, tick=False)
def test_a_to_z_response_fits_the_box_and_lists_the_files_to_send(cast: dict[str, Any]) -> None:
    alice = cast["alice"]
    account = _world(alice)
    defect = _defect(ORDERS[4], "a_to_z_claim")
    case = case_draft(actor=alice, account=account, defect=defect)
    # Granted and debited (it came from finances): what is left is an appeal, 30 days on.
    assert case.kind == "defect_appeal"
    assert case.due_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert len(case.body) <= amazon_rules().a_to_z_box_chars
    assert "Buyer-Seller Messaging" in case.body and case.fields["checklist"]
    assert "[Add the ship date, the carrier and the tracking id.]" in case.body
    case_record(actor=alice, case=case, outcome="submitted")
    case_record(actor=alice, case=case, outcome="approved")
    assert _defect(ORDERS[4], "a_to_z_claim").status == "removed"


def test_a_long_order_history_is_cut_to_amazons_box() -> None:
    from defectdesk.ledger.fold import OrderState, Refund

    state = OrderState(marketplace="AMZ-US", order_ref=ORDERS[0], placed_at=NOW, currency="USD")
    from decimal import Decimal

    state.refunds = [Refund(NOW, Decimal("1.00"), None, None, f"r{i}") for i in range(400)]
    from zoneinfo import ZoneInfo

    draft = packets.a_to_z_response_draft(
        state=state,
        reason="not_received",
        filed_at=NOW,
        respond_by=None,
        tz=ZoneInfo("UTC"),
        rules=amazon_rules(),
    )
    assert len(draft.body) <= 4000 and draft.body.endswith("[...]")
    assert draft.due_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_entered_chargeback_and_its_representment_fields(cast: dict[str, Any]) -> None:
    alice = cast["alice"]
    account = _world(alice)
    with pytest.raises(ValidationFailed) as exc:
        hidden_fact_enter(
            actor=alice,
            account=account,
            kind="chargeback",
            order_ref="12345",
            reason="nope",
            deadline=None,
        )
    assert {e.field for e in exc.value.errors} == {"order", "reason"}
    fact = hidden_fact_enter(
        actor=alice,
        account=account,
        kind="chargeback",
        order_ref=ORDERS[5],
        reason="not_received",
        deadline=datetime(2026, 11, 27, tzinfo=UTC),
        reference="CB-77",
    )
    assert fact.event_id and Event.objects.filter(event_id=fact.event_id).exists()
    defect = _defect(ORDERS[5], "chargeback")
    case = case_draft(actor=alice, account=account, defect=defect)
    assert case.kind == "chargeback_representment"
    assert set(case.fields) == {"ship_date", "carrier", "shipping_speed", "tracking_id", "comments"}
    assert case.due_at == datetime(2026, 11, 27, tzinfo=UTC)
    assert (
        AuditEvent.objects.filter(action="mirror.hidden_fact_enter", actor_label="alice").count()
        == 1
    )


@time_machine.travel(NOW, tick=False)
def test_plan_of_action_groups_defects_by_root_cause_citing_orders(cast: dict[str, Any]) -> None:
    alice = cast["alice"]
    account = _world(alice)
    case = plan_of_action_build(actor=alice, account=account)
    causes = {c["cause"]: c["orders"] for c in case.fields["causes"]}
    assert ORDERS[1] in causes["item"]
    assert ORDERS[2] in causes["delivery"] and ORDERS[0] in causes["delivery"]
    assert case.body.count("Root cause:") == len(causes)
    assert case.body.count("Actions taken:") == len(causes)
    assert case.body.count("Preventive measures:") == len(causes)
    for orders in causes.values():
        for ref in orders:
            assert ref in case.body


@time_machine.travel(NOW, tick=False)
def test_another_seller_cannot_see_or_change_any_of_it(cast: dict[str, Any]) -> None:
    alice, carol, bob = cast["alice"], cast["carol"], cast["bob"]
    account = _world(alice)
    case = case_draft(
        actor=alice, account=account, defect=_defect(ORDERS[0]), criterion="obscene_or_abusive"
    )
    with pytest.raises(NotFound):
        case_record(actor=carol, case=case, outcome="submitted")
    from defectdesk.core.errors import Forbidden

    with pytest.raises(Forbidden):
        case_record(actor=bob, case=case, outcome="submitted")
    client = Client()
    client.force_login(carol)
    for url in (
        f"/amazon/requests/{case.pk}/",
        f"/amazon/{account.pk}/reconcile/",
        f"/amazon/{account.pk}/enter/",
        f"/amazon/defects/{case.defect_id}/request/",
    ):
        assert client.get(url).status_code == 404, url
    assert ORDERS[0] not in client.get("/amazon/").content.decode()
    assert (
        client.post(
            f"/amazon/requests/{case.pk}/", {"step": "record", "outcome": "approved"}
        ).status_code
        == 404
    )
    assert MirrorCase.objects.get(pk=case.pk).status == "prepared"
    assert HiddenFact.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_an_entered_information_request_moves_the_submitted_request(cast: dict[str, Any]) -> None:
    alice = cast["alice"]
    account = _world(alice)
    case = case_draft(
        actor=alice, account=account, defect=_defect(ORDERS[0]), criterion="obscene_or_abusive"
    )
    case_record(actor=alice, case=case, outcome="submitted")
    deadline = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)
    hidden_fact_enter(
        actor=alice,
        account=account,
        kind="info_request",
        order_ref=ORDERS[0],
        reason="",
        deadline=deadline,
    )
    case.refresh_from_db()
    assert (case.status, case.amazon_deadline) == ("info_requested", deadline)
    assert AuditEvent.objects.filter(
        action="mirror.case_info_requested", object_id=str(case.pk)
    ).exists()
    with pytest.raises(ValidationFailed):
        hidden_fact_enter(
            actor=alice,
            account=account,
            kind="info_request",
            order_ref=ORDERS[0],
            reason="",
            deadline=None,
        )
