"""Orders and at-risk orders: GET /api/v1/orders, /orders/{marketplace}/{order},
/sellers/{seller}/at-risk, and a merchant's reply to the buyer."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja import Status as Reply
from pydantic import Field

from defectdesk.accounts.selectors import seller_for
from defectdesk.api.auth import principal
from defectdesk.api.openapi import token_scope
from defectdesk.api.pagination import paginate
from defectdesk.api.schemas import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    InputSchema,
    PageQuery,
    enum_of,
    error_responses,
)
from defectdesk.appeals.selectors import appealable_until_many, appeals_visible_to
from defectdesk.core.actors import Actor
from defectdesk.core.errors import FieldError, ValidationFailed
from defectdesk.defects.models import Defect
from defectdesk.defects.selectors import orders_matching
from defectdesk.ledger.models import Order
from defectdesk.ledger.selectors import order_events, order_for, orders_visible_to
from defectdesk.messaging.actions import MAX_BODY, message_reply
from defectdesk.messaging.selectors import at_risk_orders

router = Router(tags=["orders"])
KINDS = {k.value for k in Defect.Kind}


SELLER_READ = token_scope("a seller token of the order's seller (read-only allowed), or review")


class OrderQuery(Schema):
    seller: str | None = Field(
        None, max_length=64, description="Seller id, e.g. S-1001; default: all visible"
    )
    marketplace: str | None = Field(None, max_length=16)
    problem: bool = Field(False, description="only orders with an active defect")
    kind: str | None = Field(
        None,
        description="only orders with a defect of this kind",
        json_schema_extra=enum_of(sorted(KINDS)),
    )
    q: str | None = Field(
        None, max_length=128, description="order id, buyer, SKU or tracking number"
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class OrderOut(Schema):
    marketplace: str
    order: str
    seller: str
    status: str
    placed_at: datetime
    order_date: date
    buyer: str | None
    fulfillment: str | None
    total: Decimal | None
    currency: str
    ship_by: datetime | None
    deliver_by: datetime | None
    shipped_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    first_scan_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    refunded_amount: Decimal | None
    active_defects: list[str]


class OrderPageOut(Schema):
    items: list[OrderOut]
    count: int
    page: int
    page_size: int


class EventOut(Schema):
    id: str
    type: str
    occurred_at: datetime
    data: dict[str, Any]


class OrderDefectOut(Schema):
    id: int
    kind: str
    status: str
    opened_at: datetime
    removed_at: datetime | None
    removal_cause: str
    appealable_until: datetime | None


class OrderAppealOut(Schema):
    id: int
    defect: int
    status: str
    reason: str


class OrderDetailOut(OrderOut):
    items_ordered: list[dict[str, Any]]
    events: list[EventOut]
    defects: list[OrderDefectOut]
    appeals: list[OrderAppealOut]


class RiskOut(Schema):
    reason: str
    detail: str
    action: str
    due: datetime | None


class AtRiskOut(Schema):
    marketplace: str
    order: str
    placed_at: datetime
    risks: list[RiskOut]


class AtRiskPageOut(Schema):
    items: list[AtRiskOut]
    count: int
    page: int
    page_size: int


class ReplyIn(InputSchema):
    body: str = Field(min_length=1, max_length=MAX_BODY)


class ReplyOut(Schema):
    message_id: str


def _active_kinds(orders: list[Order]) -> dict[int, list[str]]:
    kinds: dict[int, list[str]] = {o.id: [] for o in orders}
    rows = Defect.objects.filter(
        order_id__in=kinds, status=Defect.Status.ACTIVE, opened_at__lt=timezone.now()
    ).values_list("order_id", "kind")
    for order_id, kind in rows:
        kinds[order_id].append(kind)
    return kinds


def _order_dict(order: Order, kinds: list[str]) -> dict[str, Any]:
    return {
        "marketplace": order.marketplace.code,
        "order": order.order_ref,
        "seller": order.seller.external_id,
        "status": order.status,
        "placed_at": order.placed_at,
        "order_date": order.order_date,
        "buyer": order.buyer,
        "fulfillment": order.fulfillment,
        "total": order.total_amount,
        "currency": order.currency,
        "ship_by": order.ship_by,
        "deliver_by": order.deliver_by,
        "shipped_at": order.shipped_at,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "first_scan_at": order.first_scan_at,
        "delivered_at": order.delivered_at,
        "cancelled_at": order.cancelled_at,
        "cancelled_by": order.cancelled_by,
        "refunded_amount": order.refunded_amount,
        "active_defects": sorted(kinds),
    }


def _serialize(orders: list[Order]) -> list[dict[str, Any]]:
    kinds = _active_kinds(orders)
    return [_order_dict(o, kinds[o.id]) for o in orders]


@router.get(
    "/orders",
    response={200: OrderPageOut, **error_responses(401, 404, 422)},
    summary="Orders, newest first",
    operation_id="orders_list",
    openapi_extra={
        **SELLER_READ,
        "responses": {
            "200": {
                "links": {
                    "GetFirstOrder": {
                        "operationId": "orders_get",
                        "parameters": {
                            "marketplace": "$response.body#/items/0/marketplace",
                            "order": "$response.body#/items/0/order",
                        },
                    }
                }
            }
        },
    },
)
def list_orders(request: HttpRequest, q: Query[OrderQuery]) -> Any:
    who = principal(request)
    qs = orders_visible_to(who)
    if q.seller:
        qs = qs.filter(seller=seller_for(who, q.seller))
    if q.marketplace:
        qs = qs.filter(marketplace__code=q.marketplace)
    if q.kind is not None and q.kind not in KINDS:
        raise ValidationFailed(
            "The filter is not valid.",
            [FieldError("kind", f"must be one of {', '.join(sorted(KINDS))}")],
        )
    qs = orders_matching(
        qs, q=(q.q or "").strip()[:128], problem=bool(q.problem), kinds=[q.kind] if q.kind else []
    )
    return paginate(qs.order_by("-placed_at", "-id"), q.page, q.page_size, _serialize)


@router.get(
    "/orders/{marketplace}/{order}",
    response={200: OrderDetailOut, **error_responses(401, 404)},
    summary="One order with its events, defects and appeals",
    operation_id="orders_get",
    openapi_extra=SELLER_READ,
)
def get_order(request: HttpRequest, marketplace: str, order: str) -> Any:
    who = principal(request)
    found = order_for(who, marketplace, order)
    defects = list(Defect.objects.filter(order=found).order_by("opened_at", "id"))
    until = appealable_until_many(defects)
    appeals = appeals_visible_to(who).filter(defect__order=found).order_by("id")
    now = timezone.now()
    body = _order_dict(
        found,
        [d.kind for d in defects if d.status == Defect.Status.ACTIVE and d.opened_at < now],
    )
    body.update(
        items_ordered=found.items,
        events=[
            {"id": e.event_id, "type": e.type, "occurred_at": e.occurred_at, "data": e.data}
            for e in order_events(found)
        ],
        defects=[
            {
                "id": d.id,
                "kind": d.kind,
                "status": d.status,
                "opened_at": d.opened_at,
                "removed_at": d.removed_at,
                "removal_cause": d.removal_cause,
                "appealable_until": until.get(d.id),
            }
            for d in defects
        ],
        appeals=[
            {"id": a.id, "defect": a.defect_id, "status": a.status, "reason": a.reason}
            for a in appeals
        ],
    )
    return body


@router.post(
    "/orders/{marketplace}/{order}/messages",
    response={201: ReplyOut, **error_responses(401, 403, 404, 422)},
    summary="Reply to the buyer (a message.sent event)",
    operation_id="orders_reply",
    openapi_extra=token_scope("a seller token (not read-only) of the order's seller"),
)
def post_reply(request: HttpRequest, marketplace: str, order: str, payload: ReplyIn) -> Any:
    who = principal(request)
    found = order_for(who, marketplace, order)
    message_id = message_reply(
        actor=Actor(user=who.user, token_id=who.token.pk if who.token else None),
        principal=who,
        order=found,
        body=payload.body,
    )
    return Reply(201, {"message_id": message_id})


@router.get(
    "/sellers/{seller}/at-risk",
    response={200: AtRiskPageOut, **error_responses(401, 404, 422)},
    summary="Orders likely to become defects, with the action that prevents each",
    operation_id="orders_at_risk",
    openapi_extra=token_scope("a seller token of the seller (read-only allowed), or review"),
)
def list_at_risk(request: HttpRequest, seller: str, pages: Query[PageQuery]) -> Any:
    found = seller_for(principal(request), seller)
    rows = at_risk_orders(found, timezone.now())
    return paginate(
        rows,
        pages.page,
        pages.page_size,
        lambda part: [
            {
                "marketplace": r.order.marketplace.code,
                "order": r.order.order_ref,
                "placed_at": r.order.placed_at,
                "risks": [
                    {"reason": x.reason, "detail": x.detail, "action": x.action, "due": x.due}
                    for x in r.risks
                ],
            }
            for r in part
        ],
    )
