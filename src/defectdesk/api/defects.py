"""GET /api/v1/defects: the defects a user may see, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from defectdesk.accounts.selectors import seller_for
from defectdesk.api.auth import principal
from defectdesk.api.openapi import token_scope
from defectdesk.api.pagination import page_errors, paginate
from defectdesk.api.schemas import MAX_PAGE, MAX_PAGE_SIZE, enum_of, error_responses
from defectdesk.appeals.selectors import appealable_until_many
from defectdesk.core.errors import FieldError, ValidationFailed
from defectdesk.defects.models import Defect
from defectdesk.defects.selectors import defects_visible_to

router = Router(tags=["defects"])


class DefectQuery(Schema):
    seller: str | None = Field(
        None, max_length=64, description="Seller id (external); default: all visible"
    )
    kind: str | None = Field(None, json_schema_extra=enum_of(list(Defect.Kind.values)))
    status: str | None = Field(
        None,
        description="active or removed",
        json_schema_extra=enum_of(list(Defect.Status.values)),
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class DefectOut(Schema):
    id: int
    kind: str
    order: str
    marketplace: str
    seller: str
    status: str
    opened_at: datetime
    removed_at: datetime | None
    removal_cause: str | None
    appealable_until: datetime | None


class DefectPageOut(Schema):
    items: list[DefectOut]
    count: int
    page: int
    page_size: int


@router.get(
    "/defects",
    response={200: DefectPageOut, **error_responses(401, 404, 422)},
    summary="Defects, newest first",
    operation_id="defects_list",
    openapi_extra=token_scope("a seller token (read-only allowed), or review"),
)
def list_defects(request: HttpRequest, q: Query[DefectQuery]) -> Any:
    who = principal(request)
    qs = defects_visible_to(who)
    errors = []
    if q.kind and q.kind not in Defect.Kind.values:
        errors.append(
            FieldError("kind", f"unknown kind {q.kind!r}; known: {', '.join(Defect.Kind.values)}")
        )
    if q.status and q.status not in Defect.Status.values:
        errors.append(FieldError("status", "must be active or removed"))
    errors += page_errors(q.page, q.page_size)
    if errors:
        raise ValidationFailed("The query is not valid.", errors)
    if q.seller:
        qs = qs.filter(seller=seller_for(who, q.seller))
    if q.kind:
        qs = qs.filter(kind=q.kind)
    if q.status:
        qs = qs.filter(status=q.status)
    return paginate(qs.order_by("-opened_at", "-id"), q.page, q.page_size, _defect_items)


def _defect_items(page: list[Defect]) -> list[dict[str, Any]]:
    until = appealable_until_many(page)
    return [
        {
            "id": d.pk,
            "kind": d.kind,
            "order": d.order.order_ref,
            "marketplace": d.marketplace.code,
            "seller": d.seller.external_id,
            "status": d.status,
            "opened_at": d.opened_at,
            "removed_at": d.removed_at,
            "removal_cause": d.removal_cause or None,
            "appealable_until": until.get(d.pk),
        }
        for d in page
    ]
