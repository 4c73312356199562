"""POST /api/v1/events: the ingestion endpoint."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema

from defectdesk.api.auth import principal
from defectdesk.api.openapi import token_scope
from defectdesk.api.schemas import FieldErrorOut, error_responses
from defectdesk.core.collector import collector_paused
from defectdesk.core.errors import BadRequest, Forbidden, TooLarge
from defectdesk.ledger.ingest import events_ingest
from defectdesk.ledger.sources import SourceError, read_json_body

router = Router(tags=["events"])


class RejectOut(Schema):
    index: int
    id: str | None
    errors: list[FieldErrorOut]


class IngestOut(Schema):
    created: int
    duplicates: int
    rejected: list[RejectOut]


@router.post(
    "/events",
    response={200: IngestOut, **error_responses(400, 401, 403, 413)},
    summary="Append order events to the ledger",
    operation_id="events_ingest",
    openapi_extra={
        **token_scope("ingest"),
        "requestBody": {
            "required": True,
            "description": "A JSON array of events, or NDJSON (one event per line); at most "
            f"{settings.API_MAX_EVENTS:,} events. Each is applied or rejected on "
            "its own; rejects name the event and field.",
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
    },
)
def post_events(request: HttpRequest) -> Any:
    who = principal(request)
    if not who.can_ingest:
        raise Forbidden("This token may not ingest events (it needs the ingest scope).")
    body = request.body
    if not body.strip():
        raise BadRequest("The body is empty: send a JSON array of events or NDJSON.")
    # The parsed body is as many small containers as the batch's events: the collector is
    # paused from the parse on, as `events_ingest` pauses it for the batch.
    with collector_paused():
        try:
            candidates = read_json_body(body, max_line_bytes=settings.INGEST_MAX_LINE_BYTES)
        except SourceError as exc:
            raise BadRequest(str(exc)) from exc
        if len(candidates) > settings.API_MAX_EVENTS:
            raise TooLarge(
                f"{len(candidates):,} events in one request; the limit is "
                f"{settings.API_MAX_EVENTS:,}. Split the batch."
            )
        result = events_ingest(candidates)
    return {
        "created": result.created,
        "duplicates": result.duplicates,
        "rejected": [r.as_dict("index") for r in result.rejected],
    }
