"""Results cached under the data version are reused until any event or audited action."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from defectdesk.core.actors import SYSTEM
from defectdesk.core.audit import audit_record
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.metrics.version import version_cached


def test_a_cached_result_lasts_until_the_data_changes(marketplace: Any, make_event: Any) -> None:
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        return f"result {len(calls)}"

    def read(parts: object = "S-1") -> str:
        return version_cached("test", parts, compute, 60)

    assert read() == read() == "result 1"
    assert read("S-2") == "result 2"  # other parts, another entry
    with translation.override("de"):
        assert read() == "result 3"  # rendered text depends on the language
    assert not events_ingest([Candidate(0, make_event(order="O-1"))]).rejected
    assert read() == "result 4"  # an event
    audit_record(actor=SYSTEM, action="test", object_type="test", object_id=1)
    assert read() == "result 5"  # an audited action
    assert read() == "result 5"
