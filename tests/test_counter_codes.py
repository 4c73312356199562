"""The codes stored in the metric counters keep their meaning, and the database refuses others."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from defectdesk.metrics.core import (
    DEN,
    DEN_MARKETPLACE,
    DEN_MERCHANT,
    KIND_PART,
    METRIC_CODE,
    NUM,
    NUM_MARKETPLACE,
    NUM_MERCHANT,
)
from defectdesk.metrics.models import DailyCounter

# What every stored code means. Rows written since the first release hold these numbers: a
# change here relabels them. A new metric, part or kind takes a new number.
STORED_METRICS = {
    "order_defect_rate": 0,
    "pre_fulfillment_cancel_rate": 1,
    "late_shipment_rate": 2,
    "valid_tracking_rate": 3,
    "on_time_delivery_rate": 4,
    "refund_rate": 5,
    "contact_response_rate": 6,
}
STORED_PARTS = {
    "denominator": 0,
    "numerator": 1,
    "denominator, merchant-fulfilled": 2,
    "numerator, merchant-fulfilled": 3,
    "denominator, marketplace-fulfilled": 4,
    "numerator, marketplace-fulfilled": 5,
}
STORED_COMPONENTS = {
    "negative_feedback": 10,
    "a_to_z_claim": 11,
    "chargeback": 12,
    "cancellation": 13,
    "late_shipment": 14,
    "invalid_tracking": 15,
    "late_delivery": 16,
    "refund": 17,
}


def test_stored_metric_part_and_component_codes_keep_their_meaning() -> None:
    assert {k: v for k, v in METRIC_CODE.items() if k in STORED_METRICS} == STORED_METRICS
    parts = [DEN, NUM, DEN_MERCHANT, NUM_MERCHANT, DEN_MARKETPLACE, NUM_MARKETPLACE]
    assert dict(zip(STORED_PARTS, parts, strict=True)) == STORED_PARTS
    assert {k: v for k, v in KIND_PART.items() if k in STORED_COMPONENTS} == STORED_COMPONENTS
    # New codes never reuse an old one.
    assert len(set(METRIC_CODE.values())) == len(METRIC_CODE)
    assert not set(KIND_PART.values()) & set(STORED_PARTS.values())


def _row(**codes: Any) -> DailyCounter:
    fields = {"metric": 0, "part": 0, **codes}
    return DailyCounter(
        seller_id=1,
        marketplace_id=1,
        key_day=date(2026, 10, 1),
        change_day=date(2026, 10, 1),
        delta=1,
        **fields,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "codes", [{"metric": 7}, {"metric": -1}, {"part": 6}, {"part": 99}, {"part": -3}]
)
def test_a_counter_row_with_an_unknown_code_is_refused_by_the_database(codes: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(**codes).save()
    assert not DailyCounter.objects.exists()


@pytest.mark.django_db
def test_a_counter_row_with_known_codes_is_stored() -> None:
    _row(metric=METRIC_CODE["order_defect_rate"], part=KIND_PART["chargeback"]).save()
    assert DailyCounter.objects.get().part == 12


@pytest.mark.django_db
def test_one_cell_is_one_row_and_on_postgresql_its_index_carries_the_delta() -> None:
    from django.db import connection

    _row(metric=METRIC_CODE["order_defect_rate"], part=DEN).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(metric=METRIC_CODE["order_defect_rate"], part=DEN).save()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'metrics_counter_one_cell'")
        (definition,) = cur.fetchone()
    assert definition.endswith("INCLUDE (delta)"), definition
