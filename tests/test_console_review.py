"""The reviewer console: the queue, the review page, decisions through the appeal actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from defectdesk.appeals.actions import (
    appeal_attach,
    appeal_create,
    appeal_decide,
    appeal_reply,
    appeal_submit,
    appeal_withdraw,
)
from defectdesk.appeals.models import Appeal, AppealFile
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    NOW,
    client_for,
    frozen,
    media,
    negative_feedback,
    pdf_bytes,
    png_bytes,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")


def submitted(cast: dict[str, Any], make_event: Any, order: str, **kw: Any) -> Appeal:
    defect = negative_feedback(make_event, order=order, **kw)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    return appeal_submit(actor=cast["alice"], appeal=appeal)


def test_queue_lists_the_soonest_deadline_first_and_counts_the_overdue(
    cast: dict[str, Any], make_event: Any
) -> None:
    first = submitted(cast, make_event, "111-0000001-0000001")
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        second = submitted(cast, make_event, "111-0000002-0000002")
    with time_machine.travel(NOW + timedelta(hours=50), tick=False):
        page = client_for(cast["rita"]).get("/review/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index(f'data-appeal="{first.pk}"') < html.index(f'data-appeal="{second.pk}"')
    assert "overdue by 2 h 0 min" in html  # the first was due at +48 h
    assert "1 h 0 min left" in html  # the second is due at +51 h
    assert "1 overdue" in html
    assert "Negative feedback" in html and "S-1" in html
    overdue_only = client_for(cast["rita"]).get("/review/?overdue=1")
    # NOW is frozen again here: nothing is overdue yet.
    assert "No open appeal matches." in overdue_only.content.decode()


def test_queue_filters_and_search_and_refuses_unknown_filters(
    cast: dict[str, Any], make_event: Any
) -> None:
    one = submitted(cast, make_event, "111-0000001-0000001")
    other = submitted(cast, make_event, "111-0000002-0000002")
    rita = client_for(cast["rita"])
    found = rita.get("/review/?q=111-0000002").content.decode()
    assert f'data-appeal="{other.pk}"' in found and f'data-appeal="{one.pk}"' not in found
    by_id = rita.get(f"/review/?q={one.pk}").content.decode()
    assert f'data-appeal="{one.pk}"' in by_id
    assert f'data-appeal="{one.pk}"' in rita.get("/review/?kind=negative_feedback").content.decode()
    assert "No open appeal matches." in rita.get("/review/?kind=refund").content.decode()
    bad = rita.get("/review/?kind=bogus&status=draft")
    assert bad.status_code == 422
    body = bad.content.decode()
    assert "&#x27;bogus&#x27; is not a defect kind" in body
    assert "&#x27;draft&#x27; is not an open status" in body


def test_assign_to_me_then_to_a_colleague_and_never_to_a_merchant(
    cast: dict[str, Any], make_event: Any
) -> None:
    from defectdesk.accounts.actions import user_create
    from defectdesk.core.actors import SYSTEM

    user_create(actor=SYSTEM, username="ray", password="correct-horse-2", reviewer=True)
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    rita = client_for(cast["rita"])
    url = f"/review/appeals/{appeal.pk}/assign/"
    taken = rita.post(url, {"reviewer": "rita"}, follow=True)
    assert "is now yours" in taken.content.decode()
    appeal.refresh_from_db()
    assert appeal.assigned_to == cast["rita"] and appeal.status == "in_review"

    refused = rita.post(url, {"reviewer": "alice"}, follow=True)
    assert "was not assigned: &#x27;alice&#x27; is not a reviewer" in refused.content.decode()
    appeal.refresh_from_db()
    assert appeal.assigned_to == cast["rita"]

    rita.post(url, {"reviewer": "ray"})
    appeal.refresh_from_db()
    assert appeal.assigned_to.username == "ray"
    events = AuditEvent.objects.filter(object_id=str(appeal.pk), action="appeal.assign")
    assert [e.data["reviewer"] for e in events.order_by("id")] == ["rita", "ray"]


def test_request_info_reply_and_approve_removes_the_defect(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    rita = client_for(cast["rita"])
    page = rita.get(f"/review/appeals/{appeal.pk}/").content.decode()
    for text in (
        "Approve",
        "Deny",
        "Request information",
        "Order timeline",
        "System evidence",
        "Order Defect Rate",
        "72 hours",
    ):
        assert text in page, text

    asked = rita.post(
        f"/review/appeals/{appeal.pk}/request-info/",
        {"question": "Send the carrier's delivery photo.", "seen": "submitted"},
        follow=True,
    )
    assert "the merchant has until" in asked.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "info_requested"
    assert appeal.info_due_at == NOW + timedelta(hours=72)

    appeal_reply(actor=cast["alice"], appeal=appeal, message="Attached the photo.")
    approved = rita.post(
        f"/review/appeals/{appeal.pk}/decide/",
        {"decision": "approve", "note": "", "seen": "in_review"},
        follow=True,
    )
    assert f"Appeal {appeal.pk} approved." in approved.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "approved" and appeal.decided_by == cast["rita"]
    assert Defect.objects.get(pk=appeal.defect_id).status == "removed"
    actions = list(
        AuditEvent.objects.filter(object_type="appeal", object_id=str(appeal.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-3:] == ["appeal.request_info", "appeal.reply", "appeal.approve"]


def test_a_form_filled_against_an_older_state_is_refused_and_names_who_changed_it(
    cast: dict[str, Any], make_event: Any
) -> None:
    from defectdesk.accounts.actions import user_create
    from defectdesk.core.actors import SYSTEM

    ray = user_create(actor=SYSTEM, username="ray", password="correct-horse-2", reviewer=True)
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    appeal_decide(actor=ray, appeal=appeal, decision="deny", note="Not shown by the evidence.")
    late = client_for(cast["rita"]).post(
        f"/review/appeals/{appeal.pk}/decide/",
        {"decision": "approve", "seen": "submitted"},
        follow=True,
    )
    body = late.content.decode()
    assert "While you were reading, ray changed this appeal" in body
    assert "Nothing was changed by your form" in body
    appeal.refresh_from_db()
    assert appeal.status == "denied" and appeal.decided_by == ray
    # Even against the state it now has, the action itself refuses a second decision (409).
    again = client_for(cast["rita"]).post(
        f"/review/appeals/{appeal.pk}/decide/",
        {"decision": "approve", "seen": "denied"},
        follow=True,
    )
    assert "The appeal was already decided (denied by ray)" in again.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "denied"


def test_deciding_a_withdrawn_appeal_is_refused(cast: dict[str, Any], make_event: Any) -> None:
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    appeal_withdraw(actor=cast["alice"], appeal=appeal)
    response = client_for(cast["rita"]).post(
        f"/review/appeals/{appeal.pk}/decide/",
        {"decision": "approve", "seen": "withdrawn"},
        follow=True,
    )
    assert "The appeal was withdrawn; it cannot be decided." in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "withdrawn"


def test_a_denial_needs_a_reason_from_the_list_and_a_note(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    rita = client_for(cast["rita"])
    url = f"/review/appeals/{appeal.pk}/decide/"
    bad = rita.post(
        url, {"decision": "deny", "deny_reason": "made_up", "note": "", "seen": "submitted"}
    )
    assert bad.status_code == 422
    body = bad.content.decode()
    assert "choose the reason of the denial" in body and "write a note to the merchant" in body
    appeal.refresh_from_db()
    assert appeal.status == "submitted"
    rita.post(
        url,
        {
            "decision": "deny",
            "deny_reason": "evidence_insufficient",
            "note": "No photo.",
            "seen": "submitted",
        },
    )
    appeal.refresh_from_db()
    assert appeal.status == "denied"
    assert appeal.decision_note == "The evidence does not show the reason given. No photo."


def test_files_preview_images_inline_and_anything_else_downloads(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    png, pdf = appeal_attach(
        actor=cast["alice"],
        appeal=appeal,
        uploads=[("box.png", png_bytes()), ("l.pdf", pdf_bytes())],
    )
    # A stored file that claims to be an image but holds HTML (as if it slipped past upload).
    name = default_storage.save("appeals/evil.png", ContentFile(b"<html><script>alert(1)</script>"))
    evil = AppealFile.objects.create(
        appeal=appeal,
        original_name="photo.png",
        storage_name=name,
        content_type="image/png",
        size=30,
        sha256="0" * 64,
        uploaded_by_label="alice",
        uploaded_at=NOW,
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    rita = client_for(cast["rita"])
    base = f"/review/appeals/{appeal.pk}/files"

    image = rita.get(f"{base}/{png.pk}/")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == 'inline; filename="box.png"'
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image["Content-Security-Policy"] == "default-src 'none'; sandbox"

    document = rita.get(f"{base}/{pdf.pk}/")
    assert document["Content-Type"] == "application/pdf"
    assert document["Content-Disposition"].startswith("attachment;")

    html = rita.get(f"{base}/{evil.pk}/")
    assert html["Content-Type"] == "application/octet-stream"
    assert html["Content-Disposition"] == 'attachment; filename="photo.png"'
    assert html["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert html["X-Content-Type-Options"] == "nosniff"

    page = rita.get(f"/review/appeals/{appeal.pk}/").content.decode()
    assert f'<img src="{base}/{png.pk}/"' in page
    assert "PDF: download to read it" in page
    # Another appeal's number with this file's id is a 404.
    assert rita.get(f"/review/appeals/{appeal.pk + 99}/files/{png.pk}/").status_code == 404


def test_statistics_count_decisions_rates_and_breaches_per_reviewer(
    cast: dict[str, Any], make_event: Any
) -> None:
    quick = submitted(cast, make_event, "111-0000001-0000001")
    slow = submitted(cast, make_event, "111-0000002-0000002")
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        appeal_decide(actor=cast["rita"], appeal=quick, decision="approve", note="")
    with time_machine.travel(NOW + timedelta(hours=50), tick=False):
        appeal_decide(actor=cast["rita"], appeal=slow, decision="deny", note="No.")
        page = client_for(cast["rita"]).get("/review/stats/?days=7")
    assert page.status_code == 200
    stats = page.context["stats"]
    assert stats.overall.decisions == 2
    assert stats.overall.approval_rate == 0.5
    assert stats.overall.median_hours == 26.0
    assert stats.overall.breaches == 1
    assert stats.by_reviewer["rita"].decisions == 2
    assert stats.by_kind["negative_feedback"].approved == 1
    assert "rita" in page.content.decode()
    assert client_for(cast["rita"]).get("/review/stats/?days=0").status_code == 422


def test_approving_without_a_note_is_refused_where_policy_requires_one(
    cast: dict[str, Any], make_event: Any
) -> None:
    from defectdesk.appeals.policy import appeal_policy_set
    from defectdesk.core.actors import SYSTEM
    from defectdesk.ledger.models import Marketplace

    appeal_policy_set(
        actor=SYSTEM,
        marketplace=Marketplace.objects.get(code="US"),
        filing_window_days={},
        hours={},
        auto_rules={},
        approval_note_required=True,
    )
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    rita = client_for(cast["rita"])
    page = rita.get(f"/review/appeals/{appeal.pk}/").content.decode()
    assert "Note to the merchant (required by policy)" in page
    url = f"/review/appeals/{appeal.pk}/decide/"
    refused = rita.post(url, {"decision": "approve", "note": "  ", "seen": "submitted"})
    assert refused.status_code == 422
    assert "asks for a note to the merchant with every approval" in refused.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "submitted" and appeal.decided_at is None
    assert not AuditEvent.objects.filter(object_id=str(appeal.pk), action="appeal.approve").exists()
    rita.post(url, {"decision": "approve", "note": "Product review only.", "seen": "submitted"})
    appeal.refresh_from_db()
    assert appeal.status == "approved" and appeal.decision_note == "Product review only."


def test_a_draft_and_a_decided_appeal_offer_no_decision_forms(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    draft = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    rita = client_for(cast["rita"])
    page = rita.get(f"/review/appeals/{draft.pk}/").content.decode()
    assert 'id="approve-form"' not in page and 'id="info-form"' not in page
    assert "Not submitted yet: nothing was frozen." in page
    appeal_submit(actor=cast["alice"], appeal=draft)
    assert 'id="approve-form"' in rita.get(f"/review/appeals/{draft.pk}/").content.decode()
    appeal_decide(actor=cast["rita"], appeal=draft, decision="approve", note="")
    decided = rita.get(f"/review/appeals/{draft.pk}/").content.decode()
    assert 'id="approve-form"' not in decided and 'id="decision"' in decided


def test_the_queue_costs_the_same_queries_however_many_appeals_it_shows(
    cast: dict[str, Any], make_event: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rita = client_for(cast["rita"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert rita.get("/review/").status_code == 200
        return len(seen)

    submitted(cast, make_event, "111-0000001-0000001")
    # The first page of a session stores its CSRF secret there (CSRF_USE_SESSIONS).
    assert rita.get("/notifications/").status_code == 200
    few = queries()
    for i in range(2, 7):
        seller = "S-1" if i % 2 else "S-2"
        submitted_by = cast["alice"] if seller == "S-1" else cast["carol"]
        defect = negative_feedback(make_event, order=f"111-000000{i}-000000{i}", seller=seller)
        appeal = appeal_create(
            actor=submitted_by, defect=defect, reason="product_review_only", explanation=EXPLANATION
        )
        appeal_submit(actor=submitted_by, appeal=appeal)
    # No more (fewer: the marketplaces and their policies are kept from the first page, as no
    # appeal changes them).
    assert queries() <= few
