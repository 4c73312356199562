"""The appeal pages refuse tampered, stale and repeated forms plainly and never half-apply."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from defectdesk.appeals.actions import appeal_create, appeal_decide, appeal_submit
from defectdesk.appeals.models import Appeal
from defectdesk.core.models import AuditEvent
from tests.test_appeal_support import client_for, frozen, media, png_bytes  # noqa: F401
from tests.test_web_support import EXPLANATION, shop

pytestmark = pytest.mark.usefixtures("media", "frozen")


def _form(
    reason: str = "product_review_only",
    explanation: str = EXPLANATION,
    action: str = "submit",
    **extra: Any,
) -> dict[str, Any]:
    return {"reason": reason, "explanation": explanation, "action": action, **extra}


def test_submitting_the_form_files_the_appeal_with_its_file(cast: Any, make_event: Any) -> None:
    defect = shop(make_event)["feedback"]
    alice = client_for(cast["alice"])
    upload = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    response = alice.post(f"/defects/{defect.pk}/appeal/", _form(files=[upload]))
    appeal = Appeal.objects.get(defect=defect)
    assert response.status_code == 302 and response["Location"] == f"/appeals/{appeal.pk}/"
    assert appeal.status == "submitted" and appeal.files.count() == 1
    page = alice.get(f"/appeals/{appeal.pk}/").content.decode()
    assert "Decision expected by" in page and "photo.png" in page
    assert AuditEvent.objects.filter(object_id=str(appeal.pk), action="appeal.submit").exists()


def test_save_draft_keeps_a_draft_that_opens_in_the_form(cast: Any, make_event: Any) -> None:
    defect = shop(make_event)["feedback"]
    alice = client_for(cast["alice"])
    alice.post(f"/defects/{defect.pk}/appeal/", _form(action="save"))
    appeal = Appeal.objects.get(defect=defect)
    assert appeal.status == "draft"
    page = alice.get(f"/appeals/{appeal.pk}/").content.decode()
    assert "Save draft" in page and "Submit appeal" in page
    assert EXPLANATION.replace("'", "&#x27;") in page


def test_a_double_clicked_submit_makes_one_appeal(cast: Any, make_event: Any) -> None:
    defect = shop(make_event)["feedback"]
    alice = client_for(cast["alice"])
    first = alice.post(f"/defects/{defect.pk}/appeal/", _form())
    second = alice.post(f"/defects/{defect.pk}/appeal/", _form())
    assert Appeal.objects.filter(defect=defect).count() == 1
    appeal = Appeal.objects.get(defect=defect)
    assert first["Location"] == second["Location"] == f"/appeals/{appeal.pk}/"
    page = alice.get(second["Location"]).content.decode()
    assert "No second appeal was made" in page


def test_a_stale_tab_submitting_a_submitted_draft_gets_a_clear_message(
    cast: Any, make_event: Any
) -> None:
    defect = shop(make_event)["feedback"]
    draft = appeal_create(
        actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=draft)
    alice = client_for(cast["alice"])
    stale = "A different text typed in the stale tab, long enough to be valid."
    response = alice.post(f"/appeals/{draft.pk}/", _form(explanation=stale))
    page = response.content.decode()
    assert response.status_code == 200
    assert "already submitted elsewhere" in page
    assert stale in page  # what the merchant typed is shown, not lost
    draft.refresh_from_db()
    assert draft.explanation == EXPLANATION and draft.reason == "other"


def test_a_decided_appeals_id_in_the_form_changes_nothing(cast: Any, make_event: Any) -> None:
    defect = shop(make_event)["feedback"]
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    appeal_decide(actor=cast["rita"], appeal=appeal, decision="deny", note="Not convincing.")
    alice = client_for(cast["alice"])
    response = alice.post(f"/appeals/{appeal.pk}/", _form(action="save"))
    assert "already denied elsewhere" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "denied" and appeal.reason == "other"
    withdraw = alice.post(f"/appeals/{appeal.pk}/withdraw/", {"confirm": "yes"}, follow=True)
    assert "already decided" in withdraw.content.decode()


def test_another_sellers_defect_in_the_form_is_not_found(cast: Any, make_event: Any) -> None:
    defects = shop(make_event)
    alice = client_for(cast["alice"])
    assert alice.get(f"/defects/{defects['foreign'].pk}/appeal/").status_code == 404
    response = alice.post(f"/defects/{defects['foreign'].pk}/appeal/", _form())
    assert response.status_code == 404
    assert not Appeal.objects.exists()


def test_a_reason_of_another_kind_is_refused_next_to_the_field(cast: Any, make_event: Any) -> None:
    defect = shop(make_event)["feedback"]
    alice = client_for(cast["alice"])
    response = alice.post(f"/defects/{defect.pk}/appeal/", _form(reason="proof_of_delivery"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="e-reason"' in page and "is not a reason for a negative_feedback defect" in page
    assert EXPLANATION.replace("'", "&#x27;") in page  # the explanation typed is kept
    assert not Appeal.objects.exists()


def test_a_bad_file_refuses_the_whole_form(cast: Any, make_event: Any) -> None:
    defect = shop(make_event)["feedback"]
    alice = client_for(cast["alice"])
    fake = SimpleUploadedFile("invoice.pdf", b"<html><script>x</script></html>")
    response = alice.post(f"/defects/{defect.pk}/appeal/", _form(files=[fake]))
    page = response.content.decode()
    assert 'id="e-files"' in page and "not an accepted file type" in page
    assert not Appeal.objects.exists()


def test_markup_in_explanation_and_file_name_is_shown_as_text(cast: Any, make_event: Any) -> None:
    defect = shop(make_event)["feedback"]
    alice = client_for(cast["alice"])
    hostile = "<script>alert(1)</script> and more words so it is long enough to count"
    upload = SimpleUploadedFile("<img src=x onerror=alert(2)>.png", png_bytes())
    alice.post(f"/defects/{defect.pk}/appeal/", _form(explanation=hostile, files=[upload]))
    appeal = Appeal.objects.get(defect=defect)
    page = alice.get(f"/appeals/{appeal.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;.png" in page


def test_read_only_staff_see_no_appeal_button_and_cannot_post(cast: Any, make_event: Any) -> None:
    defect = shop(make_event)["feedback"]
    bob = client_for(cast["bob"])
    page = bob.get(f"/orders/US/{defect.order.order_ref}/").content.decode()
    assert f"/defects/{defect.pk}/appeal/" not in page and "Read-only access" in page
    assert bob.post(f"/defects/{defect.pk}/appeal/", _form()).status_code == 403
    assert not Appeal.objects.exists()
    assert bob.get("/settings/users/").status_code == 403


def test_foreign_orders_and_appeals_answer_404(cast: Any, make_event: Any) -> None:
    defects = shop(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defects["feedback"], reason="other", explanation=EXPLANATION
    )
    carol = client_for(cast["carol"])
    order = defects["feedback"].order
    assert carol.get(f"/orders/US/{order.order_ref}/").status_code == 404
    assert carol.get(f"/appeals/{appeal.pk}/").status_code == 404
    assert carol.post(f"/appeals/{appeal.pk}/", _form()).status_code == 404
    assert carol.post(f"/appeals/{appeal.pk}/withdraw/").status_code == 404
    assert carol.get("/orders/?seller=S-1").status_code == 404
    appeal.refresh_from_db()
    assert appeal.status == "draft"


def test_a_reply_error_keeps_the_text_and_changes_nothing(cast: Any, make_event: Any) -> None:
    from defectdesk.appeals.actions import appeal_request_info

    defect = shop(make_event)["feedback"]
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    appeal_request_info(actor=cast["rita"], appeal=appeal, question="Which colour was it?")
    alice = client_for(cast["alice"])
    bad = SimpleUploadedFile("x.exe", b"MZ\x90\x00" + b"\x00" * 100)
    response = alice.post(
        f"/appeals/{appeal.pk}/reply/", {"message": "It was blue.", "files": [bad]}
    )
    assert response.status_code == 200 and "It was blue." in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == "info_requested"
    ok = alice.post(f"/appeals/{appeal.pk}/reply/", {"message": "It was blue."})
    assert ok.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == "in_review"


def test_the_appeal_page_links_a_packet_that_downloads_with_the_session(
    cast: Any, make_event: Any
) -> None:
    defect = shop(make_event)["feedback"]
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    alice = client_for(cast["alice"])
    page = alice.get(f"/appeals/{appeal.pk}/").content.decode()
    link = f"/api/v1/appeals/{appeal.pk}/packet.pdf"
    assert link in page
    packet = alice.get(link)
    assert packet.status_code == 200 and packet["Content-Type"] == "application/pdf"
    assert client_for(cast["carol"]).get(link).status_code == 404
