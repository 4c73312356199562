"""Appeals over HTTP (DESIGN §8): thin views over the appeal actions and selectors."""

from __future__ import annotations

import html
import io
from typing import Annotated, Any, Literal

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.http.request import RawPostDataException
from ninja import Field, Path, Query, Router, Schema
from ninja import Status as Reply

from defectdesk.api.auth import principal
from defectdesk.api.openapi import token_scope
from defectdesk.api.pagination import paginate
from defectdesk.api.schemas import (
    MAX_ID,
    InputSchema,
    PageQuery,
    enum_of,
    error_responses,
    json_body,
)
from defectdesk.appeals.actions import (
    appeal_assign,
    appeal_attach,
    appeal_create,
    appeal_decide,
    appeal_reply,
    appeal_request_info,
    appeal_submit,
    appeal_update,
    appeal_withdraw,
)
from defectdesk.appeals.filestore import evidence_open
from defectdesk.appeals.notices import notifications_visible, unread_visible
from defectdesk.appeals.packet import packet_render
from defectdesk.appeals.policy import appeal_rules_for
from defectdesk.appeals.present import appeal_detail, appeal_summary, suggestion_for
from defectdesk.appeals.reasons import CATALOGUE, reasons_for
from defectdesk.appeals.selectors import (
    appeal_file_for,
    appeal_for,
    appeals_visible_to,
    review_queue,
)
from defectdesk.appeals.transitions import Status
from defectdesk.appeals.uploads import EXTENSIONS, filename_check, served_file_guard
from defectdesk.core.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    TooLarge,
    ValidationFailed,
)
from defectdesk.core.multipart import sent_file_names
from defectdesk.core.timeutil import iso_text
from defectdesk.notify.actions import notification_mark_read
from defectdesk.notify.models import Notification

router = Router(tags=["appeals"])

STATUS_LIST = "^({0})(,({0}))*$".format("|".join(Status.values))
REASON_CODES = sorted({r.code for reasons in CATALOGUE.values() for r in reasons})
AppealId = Annotated[int, Path(ge=1, le=MAX_ID, description="The appeal's id")]
FileId = Annotated[int, Path(ge=1, le=MAX_ID, description="The file's id")]

SELLER_WRITE = token_scope("a seller token (not read-only) of the appeal's seller, or its user")
SELLER_READ = token_scope("a seller token of the appeal's seller (read-only allowed), or review")
REVIEW = token_scope("review")


def _appeal_link(operation_id: str, pointer: str = "/id") -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": {"appeal_id": f"$response.body#{pointer}"}}


APPEAL_LINKS = {
    "GetAppeal": _appeal_link("appeals_get"),
    "EditAppeal": _appeal_link("appeals_update"),
    "AttachFiles": _appeal_link("appeals_files_add"),
    "SubmitAppeal": _appeal_link("appeals_submit"),
    "WithdrawAppeal": _appeal_link("appeals_withdraw"),
    "GetPacket": _appeal_link("appeals_packet"),
}
LISTED_APPEAL_LINKS = {
    "GetFirstAppeal": _appeal_link("appeals_get", "/items/0/id"),
    "SubmitFirstAppeal": _appeal_link("appeals_submit", "/items/0/id"),
    "GetFirstPacket": _appeal_link("appeals_packet", "/items/0/id"),
}
QUEUED_APPEAL_LINKS = {
    "AssignFirstAppeal": _appeal_link("review_assign", "/items/0/id"),
    "AskAboutFirstAppeal": _appeal_link("review_request_info", "/items/0/id"),
    "DecideFirstAppeal": _appeal_link("review_decide", "/items/0/id"),
    "GetFirstAppeal": _appeal_link("appeals_get", "/items/0/id"),
}


class AppealCreateIn(InputSchema):
    defect: int = Field(ge=1, le=MAX_ID, description="The defect's id")
    reason: str = Field(
        json_schema_extra=enum_of(REASON_CODES),
        description="A reason code the defect's kind offers (GET /appeals/reasons)",
    )
    explanation: str = Field(
        description="Plain text; its bounds (length) are the marketplace's appeal policy"
    )


class AppealPatchIn(InputSchema):
    reason: str | None = Field(None, json_schema_extra=enum_of([*REASON_CODES, None]))
    explanation: str | None = None


class ReplyIn(InputSchema):
    message: str = Field(min_length=1)


class AssignIn(InputSchema):
    reviewer: str = Field(min_length=1, max_length=150, description="A reviewer's user name")


class RequestInfoIn(InputSchema):
    question: str = Field(min_length=1)


class DecideIn(InputSchema):
    decision: Literal["approve", "deny"]
    note: str = ""
    seen_status: str | None = Field(
        None,
        description="The appeal's status as the reviewer saw it; when the appeal has changed "
        "since, the decision is refused with 409.",
    )


class ReasonsQuery(Schema):
    kind: str | None = Field(None, json_schema_extra=enum_of(list(CATALOGUE)))


class WithdrawIn(InputSchema):
    note: str = ""


class DefectRefOut(Schema):
    id: int
    kind: str
    order: str
    status: str
    opened_at: str | None


class AppealSummaryOut(Schema):
    id: int
    status: str
    status_label: str
    status_text: str = Field(
        description='The state as the merchant reads it, e.g. "Denied: the reply deadline passed"'
    )
    denied_because_reply_deadline_passed: bool
    seller: str
    marketplace: str
    defect: DefectRefOut
    reason: str
    reason_label: str
    created_at: str | None
    submitted_at: str | None
    decision_expected_by: str | None
    info_due_at: str | None
    overdue: bool
    assigned_to: str | None
    decided_at: str | None


class FileOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: str | None
    uploaded_by: str
    reply: int | None
    url: str


class MessageOut(Schema):
    id: int
    kind: str
    body: str
    by: str
    at: str | None


class ReasonOut(Schema):
    code: str
    label: str
    guidance: str


class DecisionOut(Schema):
    outcome: str
    by: str
    cause: str
    rule: str | None
    note: str
    facts: dict[str, Any]
    at: str | None


class AppealOut(AppealSummaryOut):
    explanation: str
    guidance: str
    reasons: list[ReasonOut]
    suggested_explanation: str | None
    files: list[FileOut]
    messages: list[MessageOut]
    recommendations: list[dict[str, Any]]
    decision: DecisionOut | None
    system_evidence: dict[str, Any] | None
    history: list[dict[str, Any]]


class AppealPageOut(Schema):
    items: list[AppealSummaryOut]
    count: int
    page: int
    page_size: int


class ReasonsOut(Schema):
    kind: str
    reasons: list[ReasonOut]


def _page(qs: Any, page: int, page_size: int) -> dict[str, Any]:
    return paginate(qs, page, page_size, lambda rows: [appeal_summary(a) for a in rows])


def _detail(appeal_id: int, request: HttpRequest) -> dict[str, Any]:
    appeal = appeal_for(principal(request), appeal_id)
    suggested = suggestion_for(appeal) if appeal.status == Status.DRAFT else None
    return appeal_detail(appeal, suggested=suggested)


class _NameCheckingParser(MultiPartParser):
    """Django's parser quietly rewrites unsafe file names (drops paths, NUL, line breaks) and
    truncates long ones; refuse them instead, naming what is wrong."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        filename_check(html.unescape(file_name))  # Django unescapes HTML entities first
        return super().sanitize_file_name(file_name)


def _multipart(request: HttpRequest) -> tuple[Any, Any]:
    """The request's multipart fields and files, parsed with the file-name check."""
    cached = getattr(request, "_appeal_multipart", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        body = request.body
    except RawPostDataException:  # already read as a stream (for a CSRF token): use Django's
        parsed: tuple[Any, Any] = (request.POST, request.FILES)
        for name in sent_file_names(request, list(request.FILES.getlist("file"))):
            filename_check(name)
    else:
        try:
            parser = _NameCheckingParser(
                request.META, io.BytesIO(body), request.upload_handlers, request.encoding
            )
            parsed = parser.parse()
        except MultiPartParserError as exc:
            raise BadRequest(f"The multipart body cannot be read: {exc}.") from None
    request._appeal_multipart = parsed  # type: ignore[attr-defined]
    return parsed


def _uploads(request: HttpRequest, appeal_id: int) -> list[tuple[str, bytes]]:
    """The multipart files sent in the field `file`, read within the size limit."""
    appeal = appeal_for(principal(request), appeal_id)
    limit = appeal_rules_for(appeal.marketplace_id).max_file_bytes
    files: list[UploadedFile] = _multipart(request)[1].getlist("file")
    out = []
    for item in files:
        name = item.name or ""
        if item.size is not None and item.size > limit:
            raise TooLarge(
                f"{name!r} is {item.size / (1024 * 1024):.1f} MB; each file may be at most "
                f"{limit / (1024 * 1024):g} MB."
            )
        out.append((name, item.read()))
    return out


def _is_multipart(request: HttpRequest) -> bool:
    return (request.content_type or "").startswith("multipart/")


MULTIPART_FILE = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or more files: PDF, PNG, JPEG, WebP or plain "
                            "text, at most 10 MB each and 10 per appeal (type sniffed "
                            "from the content).",
                        }
                    },
                    "required": ["file"],
                }
            }
        },
    }
}

REPLY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"message": {"type": "string", "minLength": 1}},
                    "required": ["message"],
                    "additionalProperties": False,
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "message": {"type": "string", "minLength": 1},
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                    "required": ["message"],
                }
            },
        },
    }
}


@router.get(
    "/appeals/reasons",
    response={200: list[ReasonsOut], **error_responses(401, 422)},
    summary="The reasons catalogue, with the evidence that helps each reason",
    operation_id="appeals_reasons",
    openapi_extra=token_scope("any token or signed-in user"),
)
def list_reasons(request: HttpRequest, q: Query[ReasonsQuery]) -> Any:
    principal(request)
    kind = q.kind
    if kind is not None and kind not in CATALOGUE:
        raise ValidationFailed(
            "Unknown defect kind.",
            [FieldError("kind", f"must be one of {', '.join(CATALOGUE)}")],
        )
    kinds = [kind] if kind else list(CATALOGUE)
    return [{"kind": k, "reasons": [_reason(r) for r in reasons_for(k)]} for k in kinds]


def _reason(r: Any) -> dict[str, str]:
    return {"code": r.code, "label": r.label, "guidance": r.guidance}


@router.post(
    "/appeals",
    response={201: AppealOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Start a draft appeal of one defect",
    operation_id="appeals_create",
    openapi_extra={**SELLER_WRITE, "responses": {"201": {"links": APPEAL_LINKS}}},
)
def create_appeal(request: HttpRequest, body: AppealCreateIn) -> Any:
    appeal = appeal_create(
        actor=principal(request),
        defect=body.defect,
        reason=body.reason,
        explanation=body.explanation,
    )
    return Reply(201, _detail(appeal.pk, request))


@router.get(
    "/appeals",
    response={200: AppealPageOut, **error_responses(401, 422)},
    summary="Appeals, newest first",
    operation_id="appeals_list",
    openapi_extra={**SELLER_READ, "responses": {"200": {"links": LISTED_APPEAL_LINKS}}},
)
def list_appeals(
    request: HttpRequest,
    pages: Query[PageQuery],
    status: str | None = Query(  # type: ignore[type-arg]
        None,
        description=f"One or more of {', '.join(Status.values)}, comma-separated",
        pattern=STATUS_LIST,
    ),
    seller: str | None = Query(None, max_length=64),  # type: ignore[type-arg]
) -> Any:
    page, page_size = pages.page, pages.page_size
    qs = appeals_visible_to(principal(request)).order_by("-created_at", "-id")
    if status:
        wanted = [s.strip() for s in status.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in Status.values]
        if unknown:
            raise ValidationFailed(
                "Unknown status.",
                [FieldError("status", f"must be among {', '.join(Status.values)}")],
            )
        qs = qs.filter(status__in=wanted)
    if seller:
        qs = qs.filter(seller__external_id=seller)
    return _page(qs, page, page_size)


@router.get(
    "/appeals/{appeal_id}",
    response={200: AppealOut, **error_responses(401, 404)},
    summary="One appeal: state, deadlines, files, messages, decision and history",
    operation_id="appeals_get",
    openapi_extra={**SELLER_READ, "responses": {"200": {"links": APPEAL_LINKS}}},
)
def get_appeal(request: HttpRequest, appeal_id: AppealId) -> Any:
    return _detail(appeal_id, request)


@router.patch(
    "/appeals/{appeal_id}",
    response={200: AppealOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Edit a draft",
    operation_id="appeals_update",
    openapi_extra=SELLER_WRITE,
)
def patch_appeal(request: HttpRequest, appeal_id: AppealId, body: AppealPatchIn) -> Any:
    appeal = appeal_for(principal(request), appeal_id)
    appeal_update(
        actor=principal(request), appeal=appeal, reason=body.reason, explanation=body.explanation
    )
    return _detail(appeal_id, request)


@router.post(
    "/appeals/{appeal_id}/files",
    response={201: AppealOut, **error_responses(400, 401, 403, 404, 409, 413, 422)},
    summary="Attach supporting files to a draft (multipart field `file`)",
    operation_id="appeals_files_add",
    openapi_extra={**MULTIPART_FILE, **SELLER_WRITE},
)
def post_files(request: HttpRequest, appeal_id: AppealId) -> Any:
    if not _is_multipart(request):
        raise BadRequest("Send the files as multipart/form-data in the field `file`.")
    uploads = _uploads(request, appeal_id)
    if not uploads:
        raise ValidationFailed("No file was sent.", [FieldError("file", "is required")])
    appeal_attach(
        actor=principal(request), appeal=appeal_for(principal(request), appeal_id), uploads=uploads
    )
    return Reply(201, _detail(appeal_id, request))


@router.get(
    "/appeals/{appeal_id}/files/{file_id}",
    response={200: None, **error_responses(401, 404)},
    summary="Download a supporting file (always as an attachment)",
    operation_id="appeals_file_get",
    openapi_extra={
        **SELLER_READ,
        "responses": {
            "200": {
                "description": "The file, as it was sent, in its sniffed media type",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in EXTENSIONS
                },
            }
        },
    },
)
def get_file(request: HttpRequest, appeal_id: AppealId, file_id: FileId) -> Any:
    item = appeal_file_for(principal(request), appeal_id, file_id)
    response = FileResponse(
        # 503 saying so if the store cannot be reached (before any byte is sent).
        evidence_open(item.storage_name),
        as_attachment=True,
        filename=item.original_name,
        content_type=item.content_type,
    )
    served_file_guard(response)
    return response


@router.post(
    "/appeals/{appeal_id}/submit",
    response={200: AppealOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Submit a draft (automatic rules run at once)",
    operation_id="appeals_submit",
    openapi_extra=SELLER_WRITE,
)
def submit(request: HttpRequest, appeal_id: AppealId) -> Any:
    appeal = appeal_for(principal(request), appeal_id)
    appeal_submit(actor=principal(request), appeal=appeal)
    return _detail(appeal_id, request)


@router.post(
    "/appeals/{appeal_id}/withdraw",
    response={200: AppealOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Withdraw an open appeal",
    operation_id="appeals_withdraw",
    openapi_extra={
        **SELLER_WRITE,
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {"schema": WithdrawIn.model_json_schema()},
            },
        },
    },
)
def withdraw(request: HttpRequest, appeal_id: AppealId) -> Any:
    appeal = appeal_for(principal(request), appeal_id)
    note = json_body(request, WithdrawIn, optional=True).note
    appeal_withdraw(actor=principal(request), appeal=appeal, note=note)
    return _detail(appeal_id, request)


@router.post(
    "/appeals/{appeal_id}/reply",
    response={200: AppealOut, **error_responses(400, 401, 403, 404, 409, 413, 422)},
    summary="Answer an information request (JSON, or multipart with files in `file`)",
    operation_id="appeals_reply",
    openapi_extra={**REPLY_BODY, **SELLER_WRITE},
)
def reply(request: HttpRequest, appeal_id: AppealId) -> Any:
    appeal = appeal_for(principal(request), appeal_id)
    uploads: list[tuple[str, bytes]] = []
    if _is_multipart(request):
        message: Any = _multipart(request)[0].get("message")
        uploads = _uploads(request, appeal_id)
    else:
        message = json_body(request, ReplyIn).message
    if message is None:
        raise ValidationFailed("The reply is not valid.", [FieldError("message", "is required")])
    appeal_reply(actor=principal(request), appeal=appeal, message=message, uploads=uploads)
    return _detail(appeal_id, request)


@router.get(
    "/appeals/{appeal_id}/packet.pdf",
    response={200: None, **error_responses(401, 404)},
    summary="The appeal packet (PDF)",
    operation_id="appeals_packet",
    openapi_extra={
        **SELLER_READ,
        "responses": {
            "200": {
                "description": "The packet",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    },
)
def packet(request: HttpRequest, appeal_id: AppealId) -> Any:
    appeal = appeal_for(principal(request), appeal_id)
    # 503 saying so if the store holding the images cannot be reached.
    response = HttpResponse(packet_render(appeal), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="appeal-{appeal.pk}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.get(
    "/review/queue",
    response={200: AppealPageOut, **error_responses(401, 404, 422)},
    summary="Open appeals awaiting review, soonest deadline first",
    tags=["review"],
    operation_id="review_queue",
    openapi_extra={**REVIEW, "responses": {"200": {"links": QUEUED_APPEAL_LINKS}}},
)
def queue(request: HttpRequest, pages: Query[PageQuery]) -> Any:
    return _page(review_queue(principal(request)), pages.page, pages.page_size)


@router.post(
    "/appeals/{appeal_id}/assign",
    response={200: AppealOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Assign an appeal to a reviewer",
    tags=["review"],
    operation_id="review_assign",
    openapi_extra=REVIEW,
)
def assign(request: HttpRequest, appeal_id: AppealId, body: AssignIn) -> Any:
    appeal = appeal_for(principal(request), appeal_id)
    appeal_assign(actor=principal(request), appeal=appeal, reviewer=body.reviewer)
    return _detail(appeal_id, request)


@router.post(
    "/appeals/{appeal_id}/request-info",
    response={200: AppealOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Ask the merchant for more information",
    tags=["review"],
    operation_id="review_request_info",
    openapi_extra=REVIEW,
)
def request_info(request: HttpRequest, appeal_id: AppealId, body: RequestInfoIn) -> Any:
    appeal = appeal_for(principal(request), appeal_id)
    appeal_request_info(actor=principal(request), appeal=appeal, question=body.question)
    return _detail(appeal_id, request)


@router.post(
    "/appeals/{appeal_id}/decide",
    response={200: AppealOut, **error_responses(401, 403, 404, 409, 422)},
    summary="Approve or deny (a second decision gets 409)",
    tags=["review"],
    operation_id="review_decide",
    openapi_extra=REVIEW,
)
def decide(request: HttpRequest, appeal_id: AppealId, body: DecideIn) -> Any:
    appeal = appeal_for(principal(request), appeal_id)
    appeal_decide(
        actor=principal(request),
        appeal=appeal,
        decision=body.decision,
        note=body.note,
        seen=body.seen_status,
    )
    return _detail(appeal_id, request)


class NotificationOut(Schema):
    id: int
    subject: str
    body: str
    link: str
    created_at: str | None
    read: bool


class NotificationPageOut(Schema):
    items: list[NotificationOut]
    count: int
    unread: int
    page: int
    page_size: int


class MarkReadIn(InputSchema):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(max_length=1000)


def _notification(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "subject": n.subject,
        "body": n.body,
        "link": n.link,
        "created_at": iso_text(n.created_at),
        "read": n.read_at is not None,
    }


@router.get(
    "/notifications",
    response={200: NotificationPageOut, **error_responses(401, 422)},
    summary="The signed-in user's in-app notifications, newest first",
    tags=["notifications"],
    operation_id="notifications_list",
    openapi_extra=token_scope("the signed-in user (a token sees no notifications)"),
)
def list_notifications(request: HttpRequest, pages: Query[PageQuery], unread: bool = False) -> Any:
    who = principal(request)
    qs = notifications_visible(who)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    page, page_size = pages.page, pages.page_size
    start = (page - 1) * page_size
    return {
        "items": [_notification(n) for n in qs[start : start + page_size]],
        "count": qs.count(),
        "unread": unread_visible(who),
        "page": page,
        "page_size": page_size,
    }


@router.post(
    "/notifications/read",
    response={200: dict[str, int], **error_responses(401, 403, 422)},
    summary="Mark some of your notifications read",
    tags=["notifications"],
    operation_id="notifications_mark_read",
    openapi_extra=token_scope("the signed-in user (not read-only)"),
)
def mark_read(request: HttpRequest, body: MarkReadIn) -> Any:
    who = principal(request)
    user = who.user
    if user is None or not user.is_authenticated:
        return {"marked": 0}
    if who.token is not None and who.token.read_only:
        raise Forbidden("A read-only token cannot mark notifications read.")
    ids = notifications_visible(who).filter(pk__in=body.ids).values_list("pk", flat=True)
    return {"marked": notification_mark_read(user_id=user.pk, notification_ids=ids)}
