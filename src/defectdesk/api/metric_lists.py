"""The list behind each number of account health, and the defects that can still be appealed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Schema
from pydantic import Field

from defectdesk.accounts.roles import Principal
from defectdesk.accounts.selectors import seller_for
from defectdesk.api.auth import principal
from defectdesk.api.openapi import token_scope
from defectdesk.api.pagination import paginate
from defectdesk.api.schemas import (
    DAY,
    DAY_PATTERN,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    enum_of,
    error_responses,
)
from defectdesk.appeals.listrows import ListRow, list_rows
from defectdesk.appeals.standing import Standing, appealable_defects
from defectdesk.core.errors import BadRequest, FieldError
from defectdesk.defects.models import Defect
from defectdesk.ledger.selectors import first_order_date
from defectdesk.metrics.health import Scope, parse_day, scope_for, seller_health
from defectdesk.metrics.lists import CHANNELS, PARTS, list_number, list_spec, listed
from defectdesk.policy.profile import METRICS

router = Router(tags=["health"])
SELLER_READ = token_scope("a seller token of the seller (read-only allowed), or review")


class ListQuery(Schema):
    marketplace: str | None = Field(
        None, max_length=16, description="Marketplace code; optional when the seller sells in one"
    )
    as_of: str | None = Field(
        None,
        description="YYYY-MM-DD, not after today nor before the seller's first order",
        pattern=DAY_PATTERN,
        json_schema_extra=DAY,
    )
    part: str | None = Field(
        None,
        json_schema_extra=enum_of(list(PARTS)),
        description="numerator, denominator or misses (denominator minus numerator, for the "
        "metrics where higher is better); default: what counts against the seller",
    )
    component: str | None = Field(
        None, description="Order Defect Rate only: negative_feedback, a_to_z_claim or chargeback"
    )
    channel: str | None = Field(
        None,
        description="Order Defect Rate only: merchant or marketplace (fulfilment channel)",
        json_schema_extra=enum_of(list(CHANNELS)),
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class MetricPath(Schema):
    seller: str
    metric: str = Field(json_schema_extra=enum_of(list(METRICS)))


class PageQuery(Schema):
    marketplace: str | None = Field(None, max_length=16)
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class ListedDefectOut(Schema):
    id: int
    kind: str
    opened_at: datetime
    status: str
    counted: bool = Field(description="active as of the day of the list")
    removed_at: datetime | None
    removal_cause: str
    appealable_until: datetime | None
    open_appeal: int | None
    open_appeal_status: str
    can_appeal: bool = Field(description="the caller may file an appeal for it now")


class ListedOut(Schema):
    order: str
    order_date: date
    fulfillment: str
    order_status: str
    message: str | None = Field(None, description="the buyer message (contact response rate)")
    received_at: datetime | None = None
    answered_at: datetime | None = None
    defects: list[ListedDefectOut]


class MetricListOut(Schema):
    seller: str
    marketplace: str
    metric: str
    as_of: date
    part: Literal["numerator", "denominator", "misses"]
    component: str | None
    channel: str | None
    number: int = Field(description="the number of the health JSON this is the list of")
    count: int = Field(description="how many orders (messages) the list has: always `number`")
    page: int
    page_size: int
    items: list[ListedOut]


class AppealableOut(Schema):
    id: int
    order: str
    kind: str
    opened_at: datetime
    appealable_until: datetime
    open_appeal: int | None
    open_appeal_status: str
    can_appeal: bool


class AppealablePageOut(Schema):
    seller: str
    marketplace: str
    count: int
    page: int
    page_size: int
    items: list[AppealableOut]


def _standing(s: Standing) -> dict[str, Any]:
    """A defect's appeal standing as every list of defects shows it."""
    return {
        "appealable_until": s.appealable_until,
        "open_appeal": s.open_appeal_id,
        "open_appeal_status": s.open_appeal_status,
        "can_appeal": s.can_appeal,
    }


def _defect(d: Defect, counted: bool, s: Standing) -> dict[str, Any]:
    return {
        "id": d.pk,
        "kind": d.kind,
        "opened_at": d.opened_at,
        "status": d.status,
        "counted": counted,
        "removed_at": d.removed_at,
        "removal_cause": d.removal_cause or "",
        **_standing(s),
    }


def _row(r: ListRow) -> dict[str, Any]:
    return {
        "order": r.order_ref,
        "order_date": r.order_date,
        "fulfillment": r.fulfillment,
        "order_status": r.order_status,
        "message": r.message_id or None,
        "received_at": r.received_at,
        "answered_at": r.answered_at,
        "defects": [_defect(d.defect, d.active, d.standing) for d in r.defects],
    }


def _day(scope: Scope, value: str | None) -> date:
    day = parse_day(value, "as_of", scope.today, scope.today)
    first = first_order_date(scope.seller.pk, scope.marketplace.pk)
    if first is not None and day < first:
        raise BadRequest(
            "as_of is before the seller's first order.",
            [
                FieldError(
                    "as_of",
                    f"{day.isoformat()} is before the first order in {scope.marketplace.code} "
                    f"({first.isoformat()}); nothing was counted then",
                )
            ],
        )
    return day


@router.get(
    "/sellers/{seller}/health/{metric}/orders",
    response={200: MetricListOut, **error_responses(400, 401, 404, 422)},
    summary="The orders (or buyer messages) behind one number of account health",
    operation_id="health_metric_orders",
    openapi_extra=SELLER_READ,
    description="Exactly the orders counted in the metric's numerator, denominator or misses "
    "as of a day (the contact response rate lists buyer messages); `count` equals the "
    "number of the health JSON (`number`). The Order Defect Rate's lists can be narrowed to "
    "one component (numerator) or one fulfilment channel. Each order carries the metric's "
    "defects, whether each counted that day, its filing deadline and whether the caller may "
    "appeal it now. Newest order date first.",
)
def get_metric_list(request: HttpRequest, p: Path[MetricPath], q: Query[ListQuery]) -> Any:
    seller, metric = p.seller, p.metric
    who: Principal = principal(request)
    found = seller_for(who, seller)
    scope = scope_for(found, q.marketplace)
    spec = list_spec(scope, metric, q.part, q.component, q.channel)
    day = _day(scope, q.as_of)
    items = listed(scope, spec, day)
    page = paginate(
        items,
        q.page,
        q.page_size,
        lambda chunk: [_row(r) for r in list_rows(who, scope, spec, day, chunk, timezone.now())],
    )
    return {
        "seller": found.external_id,
        "marketplace": scope.marketplace.code,
        "metric": metric,
        "as_of": day,
        "part": spec.part,
        "component": spec.component or None,
        "channel": spec.channel or None,
        "number": list_number(spec, seller_health(scope, day)),
        **page,
    }


@router.get(
    "/sellers/{seller}/appealable-defects",
    response={200: AppealablePageOut, **error_responses(400, 401, 404, 422)},
    summary="The seller's defects that can still be appealed, soonest deadline first",
    operation_id="health_appealable_defects",
    openapi_extra=SELLER_READ,
    description="Active defects whose filing window is still open, with its end, an open "
    "appeal if there is one, and whether the caller may file one now.",
)
def get_appealable(request: HttpRequest, seller: str, q: Query[PageQuery]) -> Any:
    who: Principal = principal(request)
    found = seller_for(who, seller)
    scope = scope_for(found, q.marketplace)
    rows = appealable_defects(who, found, scope.marketplace, timezone.now())

    def serialize(chunk: list[tuple[Defect, Standing]]) -> list[dict[str, Any]]:
        return [
            {
                "id": d.pk,
                "order": d.order.order_ref,
                "kind": d.kind,
                "opened_at": d.opened_at,
                **_standing(s),
            }
            for d, s in chunk
        ]

    page = paginate(rows, q.page, q.page_size, serialize)
    return {"seller": found.external_id, "marketplace": scope.marketplace.code, **page}
