"""Every suggested explanation of every reason is whole sentences within the explanation rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from defectdesk.appeals.evidence import explanation_suggest
from defectdesk.appeals.reasons import CATALOGUE
from defectdesk.appeals.rules_policy import AppealRules
from defectdesk.ledger.fold import Dispute, OrderState, Refund, Scan, Shipment

AT = datetime(2026, 10, 5, 18, 30, tzinfo=UTC)


def _bare() -> OrderState:
    return OrderState(marketplace="US", order_ref="111-0000001-0000001")


def _rich() -> OrderState:
    state = _bare()
    state.currency = "USD"
    state.ship_by = AT
    state.delivered_at = AT
    state.delivery_signature = True
    state.shipments = [Shipment(AT, "UPS", "1Z999", "ground", "e1")]
    state.scans = [Scan(AT, "in_transit", "Reno", "e2")]
    state.refunds = [Refund(AT, Decimal("19.99"), "damaged", "seller", "e3")]
    dispute = Dispute("D-1", filed_at=datetime(2026, 10, 9, tzinfo=UTC), reason="not_received")
    state.claims = {"D-1": dispute}
    state.chargebacks = {"D-1": dispute}
    return state


CASES = [
    (kind, reason.code, name, state)
    for kind, reasons in CATALOGUE.items()
    for reason in reasons
    for name, state in (("bare", _bare()), ("rich", _rich()))
]


@pytest.mark.parametrize(("kind", "reason", "facts", "state"), CASES)
def test_every_suggested_explanation_ends_with_a_full_sentence_and_fits_the_rule(
    kind: str, reason: str, facts: str, state: OrderState
) -> None:
    rules = AppealRules()
    text = explanation_suggest(state, kind, reason, "D-1")
    assert rules.explanation_min <= len(text) <= rules.explanation_max, text
    assert re.search(r"[.!?]$", text), f"{kind}/{reason} ({facts}) ends mid-sentence: {text!r}"
    assert not text.endswith(":") and "  " not in text, text
    assert "_" not in text, f"a raw code in {text!r}"


def test_the_refund_reasons_suggest_a_finished_explanation() -> None:
    text = explanation_suggest(_bare(), "refund", "marketplace_initiated", "")
    assert text.endswith("The marketplace issued the refund.")
