"""Per-marketplace policy as data: validated as a whole, stored, and recomputing what it rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from defectdesk.core.actors import SYSTEM
from defectdesk.core.errors import ValidationFailed
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.policy.actions import policy_set
from defectdesk.policy.models import MarketplacePolicy
from defectdesk.policy.selectors import policy_for
from tests.health import health_as_of

AS_OF = date(2026, 10, 20)


@pytest.fixture
def refunded(cast: dict[str, Any], make_event: Any) -> None:
    events = [make_event(order=f"O-{n}", at=f"2026-10-0{n + 1}T18:00:00Z") for n in range(4)]
    events.append(
        make_event("refund.issued", order="O-1", at="2026-10-05T18:00:00Z", amount="5.00")
    )
    assert not events_ingest([Candidate(i, e) for i, e in enumerate(events)]).rejected


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"metrics": {"refund_rate": {"window_days": -3}}}, "metrics.refund_rate.window_days"),
        ({"metrics": {"refund_rate": {"lag_days": -1}}}, "metrics.refund_rate.lag_days"),
        ({"metrics": {"refund_rate": {"target": 1.5}}}, "metrics.refund_rate.target"),
        ({"metrics": {"refund_rate": {"target": -0.1}}}, "metrics.refund_rate.target"),
        ({"metrics": {"refund_rate": {"condition": "le"}}}, "metrics.refund_rate.condition"),
        ({"metrics": {"happiness_rate": {"window_days": 7}}}, "metrics.happiness_rate"),
        (
            {"metrics": {"order_defect_rate": {"kinds": ["refund"]}}},
            "metrics.order_defect_rate.kinds",
        ),
        ({"defects": {"teleport": {"enabled": True}}}, "defects.teleport"),
        (
            {"defects": {"negative_feedback": {"max_rating": 9}}},
            "defects.negative_feedback.max_rating",
        ),
        ({"appeals": {}}, "appeals"),
    ],
)
def test_bad_policy_is_refused_naming_the_field_and_the_old_one_stays(
    refunded: None, marketplace: Any, profile: dict[str, Any], field: str
) -> None:
    policy_set(
        marketplace=marketplace, profile={"metrics": {"refund_rate": {"target": 0.2}}}, actor=SYSTEM
    )
    with pytest.raises(ValidationFailed) as exc:
        policy_set(marketplace=marketplace, profile=profile, actor=SYSTEM)
    assert field in [e.field for e in exc.value.errors]
    assert policy_for(marketplace.id).metrics["refund_rate"].target == 0.2
    assert MarketplacePolicy.objects.get().version == 1


def test_window_and_target_changes_show_at_once(refunded: None, marketplace: Any) -> None:
    before = health_as_of("S-1", "US", AS_OF)["metrics"]["refund_rate"]
    assert (before["numerator"], before["denominator"], before["status"]) == (1, 4, "bad")
    policy_set(
        marketplace=marketplace,
        actor=SYSTEM,
        profile={"metrics": {"refund_rate": {"window_days": 17, "target": 0.3}}},
    )
    after = health_as_of("S-1", "US", AS_OF)["metrics"]["refund_rate"]
    assert after["window"] == {"from": "2026-10-04", "to": "2026-10-20"}
    assert (after["numerator"], after["denominator"], after["status"]) == (0, 1, "good")
    assert after["target"] == {"value": 0.3, "condition": "lt"}
    audit = AuditEvent.objects.get(action="policy_set")
    assert (audit.object_id, audit.to_state) == ("US", "v1")


def test_changing_a_defect_rule_recomputes_defects_and_history(
    refunded: None, marketplace: Any
) -> None:
    assert Defect.objects.filter(kind="refund", status="active").count() == 1
    policy_set(
        marketplace=marketplace, actor=SYSTEM, profile={"defects": {"refund": {"enabled": False}}}
    )
    assert not Defect.objects.filter(kind="refund").exists()
    refund = health_as_of("S-1", "US", AS_OF)["metrics"]["refund_rate"]
    assert (refund["numerator"], refund["denominator"]) == (0, 4)
    assert AuditEvent.objects.get(action="policy_set").note == "recomputed defects and metrics"
    policy_set(
        marketplace=marketplace, actor=SYSTEM, profile={"defects": {"refund": {"enabled": True}}}
    )
    assert health_as_of("S-1", "US", AS_OF)["metrics"]["refund_rate"]["numerator"] == 1


def test_policy_command_shows_and_refuses_bad_files(
    refunded: None, marketplace: Any, tmp_path: Any
) -> None:
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.json"
    bad.write_text('{"metrics": {"late_shipment_rate": {"window_days": -7}}}')
    with pytest.raises(CommandError, match=r"metrics\.late_shipment_rate\.window_days"):
        call_command("policy", "set", "US", str(bad), skip_checks=True)
    good = tmp_path / "good.json"
    good.write_text('{"metrics": {"late_shipment_rate": {"target": 0.05}}}')
    out = io.StringIO()
    call_command("policy", "set", "US", str(good), stdout=out, skip_checks=True)
    assert "version 1" in out.getvalue()
    shown = io.StringIO()
    call_command("policy", "show", "US", stdout=shown, skip_checks=True)
    assert '"target": 0.05' in shown.getvalue()
    with pytest.raises(CommandError, match="not JSON"):
        bad.write_text("{")
        call_command("policy", "set", "US", str(bad), skip_checks=True)


def test_saving_the_policy_in_force_again_makes_no_new_version_and_no_audit(
    refunded: None, marketplace: Any
) -> None:
    profile = {"metrics": {"refund_rate": {"target": 0.2}}}
    first = policy_set(marketplace=marketplace, profile=profile, actor=SYSTEM)
    audits = AuditEvent.objects.filter(action="policy_set").count()
    again = policy_set(marketplace=marketplace, profile=profile, actor=SYSTEM)
    assert again.version == first.version
    assert AuditEvent.objects.filter(action="policy_set").count() == audits
    changed = policy_set(
        marketplace=marketplace, profile={"metrics": {"refund_rate": {"target": 0.3}}}, actor=SYSTEM
    )
    assert changed.version == first.version + 1
    assert AuditEvent.objects.filter(action="policy_set").count() == audits + 1
