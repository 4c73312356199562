"""Filing an appeal is one action owning one transaction: its files are staged, promoted when it
commits and deleted when it does not, so a refusal at any step leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils.html import escape

from defectdesk.appeals import actions
from defectdesk.appeals.actions import appeal_create, appeal_file
from defectdesk.appeals.filestore import STAGING, STORE_UNREADABLE
from defectdesk.appeals.models import Appeal, AppealFile
from defectdesk.core.errors import NotFound, ValidationFailed
from defectdesk.core.models import AuditEvent
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    NOW,
    client_for,
    frozen,
    media,
    negative_feedback,
    png_bytes,
)
from tests.test_evidence_s3 import _s3_storages

pytestmark = pytest.mark.usefixtures("media", "frozen")

CLOSED_PORT = 19229  # nothing listens here: the object store is unreachable


def _stored() -> list[str]:
    """Every file in the store (the `media` fixture's folder), as names relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _audited() -> list[str]:
    return list(AuditEvent.objects.filter(action__startswith="appeal.").values_list("action"))


def _form(action: str = "submit", **extra: Any) -> dict[str, Any]:
    return {"reason": "other", "explanation": EXPLANATION, "action": action, **extra}


def test_filing_stages_the_files_and_promotes_them_when_the_transaction_commits(
    cast: dict[str, Any], make_event: Any, django_capture_on_commit_callbacks: Any
) -> None:
    defect = negative_feedback(make_event)
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        appeal = appeal_file(
            actor=cast["alice"],
            defect=defect,
            reason="other",
            explanation=EXPLANATION,
            uploads=[("label.png", png_bytes()), ("box.png", png_bytes("blue"))],
            submit=True,
        )
        staged = _stored()
        assert len(staged) == 2 and all(name.startswith(f"{STAGING}/") for name in staged)
    # Committed, not yet promoted: a reader finds each file under its staging name.
    item = AppealFile.objects.filter(appeal=appeal).first()
    assert item is not None
    rita = client_for(cast["rita"])
    assert rita.get(f"/review/appeals/{appeal.pk}/files/{item.pk}/").content == png_bytes()
    for callback in waiting:
        callback()
    final = sorted(AppealFile.objects.filter(appeal=appeal).values_list("storage_name", flat=True))
    assert _stored() == final
    assert all(name.startswith(f"appeals/{appeal.seller_id}/{appeal.pk}/") for name in final)
    assert rita.get(f"/review/appeals/{appeal.pk}/files/{item.pk}/").content == png_bytes()
    assert Appeal.objects.get(pk=appeal.pk).status == "submitted"


def test_a_failure_between_attaching_and_submitting_leaves_nothing(
    cast: dict[str, Any], make_event: Any, monkeypatch: Any
) -> None:
    defect = negative_feedback(make_event)

    def rules_fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the rules engine stopped")

    # The draft and its file rows are written when submitting fails.
    monkeypatch.setattr(actions, "rules_evaluate", rules_fail)
    with pytest.raises(RuntimeError, match="rules engine"):
        appeal_file(
            actor=cast["alice"],
            defect=defect,
            reason="other",
            explanation=EXPLANATION,
            uploads=[("label.png", png_bytes())],
            submit=True,
        )
    assert not Appeal.objects.exists() and not AppealFile.objects.exists()
    assert _stored() == []  # neither the staged file nor a promoted one
    assert _audited() == []


def test_a_refused_submit_of_a_draft_keeps_the_draft_as_it_was(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    draft = appeal_create(
        actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
    )
    events = _audited()
    # The filing window has closed since the draft was saved: the submit step refuses, after
    # the edit and the file were written in the same transaction.
    with time_machine.travel(NOW + timedelta(days=400), tick=False):
        response = client_for(cast["alice"]).post(
            f"/appeals/{draft.pk}/",
            _form(
                explanation=EXPLANATION + " And more.",
                files=SimpleUploadedFile("label.png", png_bytes()),
            ),
        )
    assert response.status_code == 200
    page = response.content.decode()
    assert "filing window closed on" in page, page[page.find('role="alert"') :][:1500]
    kept = Appeal.objects.get(pk=draft.pk)
    assert kept.status == "draft" and kept.explanation == EXPLANATION
    assert not AppealFile.objects.exists() and _stored() == []
    assert _audited() == events


def test_a_second_click_on_submit_files_one_appeal_with_one_set_of_files(
    cast: dict[str, Any], make_event: Any, django_capture_on_commit_callbacks: Any
) -> None:
    defect = negative_feedback(make_event)
    alice = client_for(cast["alice"])
    url = f"/defects/{defect.pk}/appeal/"
    with django_capture_on_commit_callbacks(execute=True):
        first = alice.post(url, _form(files=SimpleUploadedFile("label.png", png_bytes())))
        second = alice.post(url, _form(files=SimpleUploadedFile("label.png", png_bytes())))
    appeal = Appeal.objects.get()
    assert first["Location"] == second["Location"] == f"/appeals/{appeal.pk}/"
    assert "No second appeal was made" in alice.get(second["Location"]).content.decode()
    assert _stored() == [AppealFile.objects.get().storage_name]
    assert _audited().count(("appeal.create",)) == 1

    # The same on the draft form: the second post finds the appeal submitted already.
    draft_defect = negative_feedback(make_event, order="111-0000002-0000002")
    draft = appeal_create(
        actor=cast["alice"], defect=draft_defect, reason="other", explanation=EXPLANATION
    )
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(f"/appeals/{draft.pk}/", _form())
        again = alice.post(
            f"/appeals/{draft.pk}/", _form(files=SimpleUploadedFile("late.png", png_bytes()))
        )
    assert again.status_code == 200
    assert "was already submitted elsewhere" in again.content.decode()
    assert not AppealFile.objects.filter(appeal=draft).exists()
    assert len(_stored()) == 1


def test_another_sellers_defect_or_draft_is_not_found_and_nothing_is_written(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    other = negative_feedback(make_event, order="111-0000003-0000003")
    draft = appeal_create(
        actor=cast["alice"], defect=other, reason="other", explanation=EXPLANATION
    )
    before = _audited()
    upload = [("label.png", png_bytes())]
    with pytest.raises(NotFound):
        appeal_file(
            actor=cast["carol"],
            defect=defect.pk,
            reason="other",
            explanation=EXPLANATION,
            uploads=upload,
            submit=True,
        )
    with pytest.raises(NotFound):
        appeal_file(actor=cast["carol"], appeal=draft.pk, reason="other", explanation=EXPLANATION)
    carol = client_for(cast["carol"])
    file = SimpleUploadedFile("label.png", png_bytes())
    assert carol.post(f"/defects/{defect.pk}/appeal/", _form(files=file)).status_code == 404
    assert carol.post(f"/appeals/{draft.pk}/", _form()).status_code == 404
    # Read-only staff of the same seller: refused too, before anything is stored.
    bob = client_for(cast["bob"])
    assert bob.post(f"/appeals/{draft.pk}/", _form()).status_code == 403
    assert Appeal.objects.get(pk=draft.pk).status == "draft"
    assert Appeal.objects.count() == 1 and _stored() == [] and _audited() == before


def test_a_bad_file_is_refused_before_anything_is_written(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    with pytest.raises(ValidationFailed):
        appeal_file(
            actor=cast["alice"],
            defect=defect,
            reason="other",
            explanation=EXPLANATION,
            uploads=[("good.png", png_bytes()), ("bad.png", b"<html><script></script></html>")],
        )
    assert not Appeal.objects.exists() and _stored() == []


def test_a_form_with_every_field_missing_or_wrong_is_shown_again_with_messages(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    alice = client_for(cast["alice"])
    url = f"/defects/{defect.pk}/appeal/"
    empty = alice.post(url, {})
    assert empty.status_code == 200
    assert "is not a reason for a negative_feedback defect" in empty.content.decode()
    wrong = alice.post(url, {"reason": "x" * 500, "explanation": "", "action": "fly"})
    assert wrong.status_code == 200
    assert "at most 64 characters" in wrong.content.decode()
    assert not Appeal.objects.exists() and _stored() == []


def test_an_unreachable_store_refuses_a_new_appeal_with_files_and_saves_nothing(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    with override_settings(STORAGES=_s3_storages(CLOSED_PORT)):
        response = client_for(cast["alice"]).post(
            f"/defects/{defect.pk}/appeal/",
            _form(files=SimpleUploadedFile("label.png", png_bytes())),
        )
    assert response.status_code == 200
    assert "The file store cannot be reached right now" in response.content.decode()
    assert not Appeal.objects.exists() and not AppealFile.objects.exists()
    assert _audited() == []


def test_evidence_behind_an_unreachable_store_answers_503_saying_so(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    appeal = appeal_file(
        actor=cast["alice"],
        defect=defect,
        reason="other",
        explanation=EXPLANATION,
        uploads=[("label.png", png_bytes())],
        submit=True,
    )
    item = AppealFile.objects.get(appeal=appeal)
    message = str(STORE_UNREADABLE)
    with override_settings(STORAGES=_s3_storages(CLOSED_PORT)):
        rita = client_for(cast["rita"])
        shown = rita.get(f"/review/appeals/{appeal.pk}/files/{item.pk}/")
        assert shown.status_code == 503 and shown["Retry-After"] == "60"
        assert escape(message) in shown.content.decode()
        alice = client_for(cast["alice"])
        # The packet and the download are the API's (linked from the appeal page): its JSON.
        packet = alice.get(f"/api/v1/appeals/{appeal.pk}/packet.pdf", HTTP_ACCEPT="text/html")
        assert packet.status_code == 503 and packet.json()["detail"] == message
        download = alice.get(f"/api/v1/appeals/{appeal.pk}/files/{item.pk}")
        assert download.status_code == 503 and download.json()["code"] == "unavailable"
    # The store back: the same file, unchanged.
    assert rita.get(f"/review/appeals/{appeal.pk}/files/{item.pk}/").status_code == 200
