"""The plain validation path gives exactly what the models give, or stands aside."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defectdesk.ledger.generator import generate_events
from defectdesk.ledger.schemas import (
    _ITEM_FIELDS,
    _PLAIN_DATA,
    _REQUIRED,
    DATA_SCHEMAS,
    ItemData,
    MarketplaceInfo,
    ValidEvent,
    _plain_event,
    model_validate_event,
)

MARKETS = {"US": MarketplaceInfo("US", "USD"), "JP": MarketplaceInfo("JP", "JPY")}
EVENTS = list(generate_events(orders=300, sellers=5, days=40, seed=4, end=date(2026, 10, 31)))


def same_as_models(raw: dict[str, Any]) -> ValidEvent | None:
    """The plain result, checked against the models' result when there is one."""
    plain = _plain_event(copy.deepcopy(raw), MARKETS)
    if plain is not None:
        model = model_validate_event(copy.deepcopy(raw), MARKETS)
        assert isinstance(model, ValidEvent), (raw, model)
        assert plain == model
        assert plain.occurred_at.utcoffset() == model.occurred_at.utcoffset()
    return plain


def test_plain_fields_mirror_the_models() -> None:
    """Same fields, the same required ones, the same defaults."""
    pairs = [(DATA_SCHEMAS[kind], spec) for kind, spec in _PLAIN_DATA.items()]
    pairs.append((ItemData, _ITEM_FIELDS))
    assert set(_PLAIN_DATA) == set(DATA_SCHEMAS)
    for model, spec in pairs:
        assert list(spec) == list(model.model_fields), model
        for name, info in model.model_fields.items():
            default = spec[name][1]
            if info.is_required():
                assert default is _REQUIRED, (model, name)
            else:
                assert default == info.default, (model, name)


def test_generated_events_take_the_plain_path_and_agree() -> None:
    taken = [same_as_models(e) for e in EVENTS]
    assert all(t is not None for t in taken)
    assert {e["type"] for e in EVENTS} >= {"order.placed", "order.shipped", "order.delivered"}


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 200_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            "",
            " ",
            "x",
            "USD",
            "usd",
            "19.99",
            "-0.00",
            "19.99\n",
            "1e3",
            "0",
            "5",
            "merchant",
            "marketplace",
            "in_transit",
            "buyer",
            "not_received",
            "won",
            "2026-10-01T12:00:00Z",
            "2026-10-01T12:00:00+00:00",
            "2026-10-01T12:00:00-00:00",
            "2026-10-01T12:00:00.000Z",
            "2026-10-01T12:00:00.5+05:30",
            "2026-10-01T12:00:00.123456-07:00",
            "2026-10-01 12:00:00Z",
            "2026-10-01T12:00:00",
            "2026-02-30T12:00:00Z",
            "2026-10-01T24:00:00Z",
            "2026-10-01T12:00:60Z",
            "2026-10-01T12:00:00+23:59",
            "S-1",
            "S 1",
            "x" * 65,
            "x" * 129,
            "y" * 10_001,
            "é",
        ]
    ),
    st.text(max_size=8),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["amount", "currency", "sku", "x"]), st.text(max_size=4)),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, len(EVENTS) - 1),
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "occurred_at",
                    "marketplace",
                    "seller",
                    "order",
                    "extra",
                    "data",
                    "data.*",
                    "data.new",
                    "data.total.amount",
                    "data.total.currency",
                    "data.items",
                    "data.items.0.*",
                    "data.items.0.new",
                ]
            ),
            ODD_VALUES,
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_odd_events_agree_or_stand_aside(index: int, changes: list[Any]) -> None:
    raw = copy.deepcopy(EVENTS[index])
    for where, value, remove in changes:
        target: Any = raw
        parts = where.split(".")
        for part in parts[:-1]:
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                break
        else:
            leaf = parts[-1]
            if isinstance(target, dict):
                if leaf == "*":
                    leaf = sorted(target)[0] if target else "x"
                if remove:
                    target.pop(leaf, None)
                else:
                    target[leaf] = value
    same_as_models(raw)


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-10-01T12:00:00Z",
        "2026-10-01T12:00:00+00:00",
        "2026-10-01T12:00:00-00:00",
        "2026-10-01T12:00:00.000Z",
        "2026-10-01T12:00:00.5+05:30",
        "2026-10-01T05:00:00.123456-07:00",
    ],
)
def test_times_are_written_as_the_models_write_them(stamp: str) -> None:
    placed = next(e for e in EVENTS if e["type"] == "order.placed")
    raw = dict(placed, occurred_at=stamp, data=dict(placed["data"], ship_by=stamp))
    assert same_as_models(raw) is not None


def boundary_values(info: Any) -> list[Any]:
    """Values on both sides of a field's declared limits (read from the model)."""
    from annotated_types import Ge, Le, MaxLen

    out: list[Any] = [None]
    for limit in info.metadata:
        if isinstance(limit, MaxLen):
            out += ["x" * limit.max_length, "x" * (limit.max_length + 1)]
        if isinstance(limit, Ge):
            out += [limit.ge - 1, limit.ge]
        if isinstance(limit, Le):
            out += [limit.le, limit.le + 1]
    return out


def test_every_field_agrees_at_its_limits() -> None:
    """For each event type and declared field, values at and past the model's limits are
    taken by the plain path only where the models take them, with the same result."""
    base = {}
    for event in EVENTS:
        base.setdefault(event["type"], event)
    checked = 0
    for kind, model in DATA_SCHEMAS.items():
        if kind not in base:
            continue
        for name, info in model.model_fields.items():
            for value in boundary_values(info):
                raw = copy.deepcopy(base[kind])
                raw["data"][name] = value
                checked += same_as_models(raw) is not None
    assert checked > 20  # values within the limits were taken and compared
