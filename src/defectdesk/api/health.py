"""Account health: GET /api/v1/sellers/{seller}/health and its history and explanations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from defectdesk.accounts.selectors import seller_for
from defectdesk.api.auth import principal
from defectdesk.api.openapi import token_scope
from defectdesk.api.schemas import DAY, DAY_PATTERN, enum_of, error_responses
from defectdesk.metrics.explain import explain_change, explain_day, outlook
from defectdesk.metrics.health import (
    history_range,
    metric_history,
    parse_day,
    scope_for,
    seller_health,
)
from defectdesk.policy.profile import METRICS

router = Router(tags=["health"])
SELLER_READ = token_scope("a seller token of the seller (read-only allowed), or review")
METRIC_ENUM = enum_of(METRICS)

METRIC_HELP = (
    "order_defect_rate, pre_fulfillment_cancel_rate, late_shipment_rate, valid_tracking_rate, "
    "on_time_delivery_rate, refund_rate or contact_response_rate"
)


class HealthQuery(Schema):
    marketplace: str | None = Field(
        None, max_length=16, description="Marketplace code; optional when the seller sells in one"
    )
    as_of: str | None = Field(
        None,
        description="YYYY-MM-DD, not after today (default today, in the marketplace's time zone)",
        pattern=DAY_PATTERN,
        json_schema_extra=DAY,
    )


class HistoryQuery(Schema):
    marketplace: str | None = Field(None, max_length=16)
    metric: str = Field("order_defect_rate", description=METRIC_HELP, json_schema_extra=METRIC_ENUM)
    from_: str | None = Field(
        None,
        alias="from",
        description="First day (default: 90 days ending with `to`)",
        pattern=DAY_PATTERN,
        json_schema_extra=DAY,
    )
    to: str | None = Field(
        None,
        description="Last day (default today); at most 400 days",
        pattern=DAY_PATTERN,
        json_schema_extra=DAY,
    )


class MetricQuery(Schema):
    marketplace: str | None = Field(None, max_length=16)
    metric: str = Field("order_defect_rate", description=METRIC_HELP, json_schema_extra=METRIC_ENUM)
    as_of: str | None = Field(None, pattern=DAY_PATTERN, json_schema_extra=DAY)


class HistoryItem(Schema):
    date: str
    rate: float | None
    numerator: int
    denominator: int
    status: str


HEALTH_EXAMPLE = {
    "seller": "S-1001",
    "marketplace": "US",
    "as_of": "2026-10-01",
    "account_status": "at_risk",
    "metrics": {
        "order_defect_rate": {
            "rate": 0.012307692307692308,
            "numerator": 12,
            "denominator": 975,
            "status": "bad",
            "target": {"value": 0.01, "condition": "lt"},
            "window": {"from": "2026-07-20", "to": "2026-09-17"},
            "components": {"negative_feedback": 5, "a_to_z_claim": 4, "chargeback": 4},
            "by_fulfillment": {
                "merchant": {"rate": 0.015, "numerator": 9, "denominator": 600},
                "marketplace": {"rate": 0.008, "numerator": 3, "denominator": 375},
            },
        }
    },
}


@router.get(
    "/sellers/{seller}/health",
    response={200: dict[str, Any], **error_responses(400, 401, 404)},
    summary="A seller's account health as of a day",
    operation_id="health_get",
    description="Every metric of DESIGN §4: unrounded rate (null with a denominator of 0), "
    "numerator, denominator, status (good, bad, none), target and window; the "
    "order defect rate also by component and fulfilment channel.",
    openapi_extra={
        **SELLER_READ,
        "responses": {"200": {"content": {"application/json": {"example": HEALTH_EXAMPLE}}}},
    },
)
def get_health(request: HttpRequest, seller: str, q: Query[HealthQuery]) -> Any:
    found = seller_for(principal(request), seller)
    scope = scope_for(found, q.marketplace)
    day = parse_day(q.as_of, "as_of", scope.today, scope.today)
    return seller_health(scope, day)


@router.get(
    "/sellers/{seller}/health/history",
    response={200: list[HistoryItem], **error_responses(400, 401, 404)},
    summary="The daily history of one metric",
    operation_id="health_history",
    openapi_extra=SELLER_READ,
)
def get_history(request: HttpRequest, seller: str, q: Query[HistoryQuery]) -> Any:
    found = seller_for(principal(request), seller)
    scope = scope_for(found, q.marketplace)
    first, last = history_range(scope, q.from_, q.to)
    return metric_history(scope, q.metric, first, last)


@router.get(
    "/sellers/{seller}/health/explain",
    response={200: dict[str, Any], **error_responses(400, 401, 404)},
    summary="The orders and defects counted against a metric as of a day",
    operation_id="health_explain",
    openapi_extra=SELLER_READ,
    description="For a metric where lower is better these are its numerator; where higher is "
    "better, the denominator minus the numerator (the orders that miss). Each "
    "order lists its defects and the day its order date leaves the window.",
)
def get_explain(request: HttpRequest, seller: str, q: Query[MetricQuery]) -> Any:
    found = seller_for(principal(request), seller)
    scope = scope_for(found, q.marketplace)
    day = parse_day(q.as_of, "as_of", scope.today, scope.today)
    return explain_day(scope, q.metric, day)


@router.get(
    "/sellers/{seller}/health/changes",
    response={200: dict[str, Any], **error_responses(400, 401, 404)},
    summary="Why a metric moved between two days",
    operation_id="health_changes",
    openapi_extra=SELLER_READ,
    description="The orders that entered and left the count between `from` and `to`, each "
    "with its reason (its order date entered or left the window, a defect opened "
    "or was removed). The count of `from` plus entered minus left is the count "
    "of `to`.",
)
def get_changes(request: HttpRequest, seller: str, q: Query[HistoryQuery]) -> Any:
    found = seller_for(principal(request), seller)
    scope = scope_for(found, q.marketplace)
    today = scope.today
    last = parse_day(q.to, "to", today, today)
    first = parse_day(q.from_, "from", today, last - timedelta(days=1))
    history_range(scope, first, last)
    return explain_change(scope, q.metric, first, last)


@router.get(
    "/sellers/{seller}/health/outlook",
    response={200: dict[str, Any], **error_responses(400, 401, 404)},
    summary="When each counted defect leaves the window, and the next 30 days' rate",
    operation_id="health_outlook",
    openapi_extra=SELLER_READ,
    description="The projection assumes no new defect and orders arriving at the current "
    "window's daily average.",
)
def get_outlook(request: HttpRequest, seller: str, q: Query[MetricQuery]) -> Any:
    found = seller_for(principal(request), seller)
    scope = scope_for(found, q.marketplace)
    day = parse_day(q.as_of, "as_of", scope.today, scope.today)
    return outlook(scope, q.metric, day)
