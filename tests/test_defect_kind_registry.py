"""A defect kind declared once in policy/kinds.py (plus its rule) is seen everywhere.

The throwaway kind is declared in a fresh interpreter before Django loads the models, as a
new kind in the source would be, so nothing of the suite's own process is changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from defectdesk.appeals.reasons import CATALOGUE
from defectdesk.appeals.rules_policy import DEFAULT_FILING_WINDOW_DAYS
from defectdesk.defects.models import Defect
from defectdesk.defects.rules import RULES
from defectdesk.metrics.core import KIND_PART, METRIC_KIND
from defectdesk.policy.kinds import DEFECT_KINDS
from defectdesk.policy.metrics import METRIC_DEFS
from defectdesk.policy.profile import DEFAULT_PROFILE, ODR_KINDS, profile_complete, profile_errors

SCRIPT = textwrap.dedent(
    """
    import os
    from datetime import UTC, datetime

    from django.utils.translation import gettext_lazy as _

    from defectdesk.policy.kinds import OTHER, DefectKind, Reason, Setting, kind_declare

    kind_declare(
        DefectKind(
            code="slow_pickup",
            label=_("Slow pick-up"),
            metric="order_defect_rate",
            counter_part=99,
            filing_window_days=45,
            opened_by=_("the carrier picked it up more than {max_days} days late"),
            why_it_counts=_("The pick-up came over {max_days} days late. It counts in your ODR."),
            settings=(Setting("max_days", 3, 1, 30, "must be from 1 to 30 days"),),
            reasons=(Reason("carrier_late", "The carrier came late", "Its pick-up record."), OTHER),
        )
    )

    import django

    django.setup()

    from defectdesk.appeals.reasons import reason_lookup, reasons_for
    from defectdesk.appeals.rules_policy import AppealRules
    from defectdesk.console.explain import defect_reason
    from defectdesk.defects.models import Defect
    from defectdesk.defects.rules import RULES, DefectFact
    from defectdesk.ledger.fold import LedgerEvent, fold_order
    from defectdesk.metrics.core import HealthSums, health_json, order_facts, order_memberships
    from defectdesk.policy.profile import (
        DEFAULT_POLICY,
        DEFAULT_PROFILE,
        ODR_KINDS,
        policy_from_profile,
        profile_complete,
        profile_errors,
    )
    from defectdesk.web.orders import _why_it_counts
    from zoneinfo import ZoneInfo

    at = datetime(2026, 10, 1, 12, tzinfo=UTC)
    RULES["slow_pickup"] = lambda state, policy: [DefectFact("slow_pickup", "", at, ((at, None),))]

    # The model, the policy profile and its validation
    assert ("slow_pickup", "Slow pick-up") in Defect.Kind.choices, Defect.Kind.choices
    assert DEFAULT_PROFILE["defects"]["slow_pickup"] == {"enabled": True, "max_days": 3}
    assert "slow_pickup" in ODR_KINDS
    assert "slow_pickup" in DEFAULT_PROFILE["metrics"]["order_defect_rate"]["kinds"]
    assert profile_errors(DEFAULT_PROFILE) == []
    bad = profile_complete({"defects": {"slow_pickup": {"max_days": 99, "colour": 1}}})
    errors = {(e.field, e.message) for e in profile_errors(bad)}
    assert errors == {
        ("defects.slow_pickup.max_days", "must be from 1 to 30 days"),
        ("defects.slow_pickup.colour", "unknown setting"),
    }, errors
    assert DEFAULT_POLICY.defects.enabled["slow_pickup"] is True
    # The appeal rules and reasons
    assert AppealRules().window_for("slow_pickup").days == 45
    assert [r.code for r in reasons_for("slow_pickup")] == ["carrier_late", "other"]
    assert reason_lookup("slow_pickup", "carrier_late").label == "The carrier came late"
    # The words of the console and the Seller Center, with the policy's numbers
    policy = policy_from_profile(profile_complete({"defects": {"slow_pickup": {"max_days": 5}}}))
    reason = defect_reason(Defect(kind="slow_pickup"), None, policy)
    assert reason.kind_label == "Slow pick-up" and reason.metric == "order_defect_rate"
    assert reason.opened_by == "the carrier picked it up more than 5 days late", reason
    assert reason.counts and reason.metric_label == "Order Defect Rate"
    assert _why_it_counts("slow_pickup", policy.defects.settings).startswith(
        "The pick-up came over 5 days late."
    )
    # The rule, the metric counters and the health JSON
    placed = LedgerEvent("e1", "order.placed", at, "S-1", {
        "buyer": "B", "fulfillment": "marketplace",
        "total": {"amount": "1.00", "currency": "USD"},
        "ship_by": "2026-10-03T12:00:00Z", "deliver_by": "2026-10-08T12:00:00Z",
    })
    state = fold_order("US", "O-1", [placed])
    from defectdesk.defects.rules import defect_facts

    facts = defect_facts(state, DEFAULT_POLICY)
    assert [f.kind for f in facts] == ["slow_pickup"], facts
    tz = ZoneInfo("UTC")
    parts = {(m.metric, m.part) for m in order_memberships(
        order_facts(state), facts, [], tz, DEFAULT_POLICY
    )}
    assert (0, 99) in parts and (0, 1) in parts, parts
    sums = HealthSums()
    sums.sums[0][99] = 1
    health = health_json("S-1", "US", at.date(), sums, DEFAULT_POLICY)
    assert health["metrics"]["order_defect_rate"]["components"]["slow_pickup"] == 1
    print("seen everywhere")
    """
)


def test_a_kind_declared_once_is_seen_by_the_model_policy_appeals_metrics_and_pages() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "defectdesk.settings"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "seen everywhere" in done.stdout


def test_every_declared_kind_has_a_rule_a_window_reasons_and_a_metric() -> None:
    assert list(RULES) == list(DEFECT_KINDS)
    assert list(DEFAULT_FILING_WINDOW_DAYS) == list(DEFECT_KINDS) == list(CATALOGUE)
    assert [code for code, _ in Defect.Kind.choices] == list(DEFECT_KINDS)
    assert list(DEFAULT_PROFILE["defects"]) == list(DEFECT_KINDS)
    for code, kind in DEFECT_KINDS.items():
        assert kind.metric in METRIC_DEFS, code
        assert CATALOGUE[code][-1].code == "other", code
    # Every metric but the ODR is failed by exactly one kind; the ODR takes the others.
    assert sorted(METRIC_KIND.values()) == sorted(set(DEFECT_KINDS) - set(ODR_KINDS))
    assert len(set(KIND_PART.values())) == len(DEFECT_KINDS)


def test_a_profile_naming_an_unknown_kind_or_metric_is_refused_naming_it_and_the_known_ones() -> (
    None
):
    profile = profile_complete(
        {"defects": {"teleport": {"enabled": True}}, "metrics": {"happiness_rate": {}}}
    )
    errors = {e.field: e.message for e in profile_errors(profile)}
    assert errors["defects.teleport"] == (
        f"unknown defect kind 'teleport'; known: {', '.join(DEFECT_KINDS)}"
    )
    assert errors["metrics.happiness_rate"] == (
        f"unknown metric 'happiness_rate'; known: {', '.join(METRIC_DEFS)}"
    )
    assert len(errors) == 2
