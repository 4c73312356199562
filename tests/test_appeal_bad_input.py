"""Every bad input to the appeal workflow gets a clear error and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from defectdesk.appeals.actions import appeal_attach, appeal_create
from defectdesk.appeals.models import Appeal, AppealFile
from defectdesk.core.errors import ValidationFailed
from defectdesk.core.models import AuditEvent
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    client_for,
    frozen,
    media,
    negative_feedback,
    pdf_bytes,
    png_bytes,
    token_client,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")

JSON = "application/json"


def _snapshot() -> tuple[Any, ...]:
    return (
        list(Appeal.objects.order_by("id").values_list("id", "status", "reason", "explanation")),
        list(AppealFile.objects.order_by("id").values_list("id", "original_name")),
        AuditEvent.objects.filter(object_type="appeal").count(),
    )


@pytest.fixture
def draft(cast: dict[str, Any], make_event: Any) -> dict[str, Any]:
    defect = negative_feedback(make_event)
    response = client_for(cast["alice"]).post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION},
        content_type=JSON,
    )
    assert response.status_code == 201
    return {
        "defect": defect,
        "id": response.json()["id"],
        "url": f"/api/v1/appeals/{response.json()['id']}",
    }


def _refused(response: Any, status: int, field: str | None = None, words: str = "") -> None:
    body = response.json()
    assert response.status_code == status, body
    assert body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    if words:
        assert words in str(body).lower(), body


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Too short.", "at least 30"),
        ("x" * 4001, "limit is 4,000"),
        ("", "at least 30"),
        ("Has a NUL \x00 inside it, which plain text does not.", "plain text"),
    ],
)
def test_explanation_out_of_bounds_is_refused(
    cast: dict[str, Any], make_event: Any, text: str, words: str
) -> None:
    defect = negative_feedback(make_event)
    alice = client_for(cast["alice"])
    before = _snapshot()
    response = alice.post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": text},
        content_type=JSON,
    )
    _refused(response, 422, "explanation", words)
    assert _snapshot() == before


def test_editing_a_draft_with_a_bad_explanation_changes_nothing(
    cast: dict[str, Any], draft: dict[str, Any]
) -> None:
    before = _snapshot()
    response = client_for(cast["alice"]).patch(
        draft["url"], {"explanation": "short"}, content_type=JSON
    )
    _refused(response, 422, "explanation")
    assert _snapshot() == before


def test_unknown_reason_for_the_kind_is_refused(cast: dict[str, Any], make_event: Any) -> None:
    defect = negative_feedback(make_event)
    response = client_for(cast["alice"]).post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "refunded_before_claim", "explanation": EXPLANATION},
        content_type=JSON,
    )
    _refused(response, 422, "reason", "product_review_only")
    assert not Appeal.objects.exists()


def test_an_eleventh_file_is_refused(cast: dict[str, Any], draft: dict[str, Any]) -> None:
    alice = client_for(cast["alice"])
    ten = [SimpleUploadedFile(f"p{i}.png", png_bytes(size=(10 + i, 10))) for i in range(10)]
    assert alice.post(f"{draft['url']}/files", {"file": ten}).status_code == 201
    before = _snapshot()
    response = alice.post(
        f"{draft['url']}/files", {"file": SimpleUploadedFile("eleven.png", png_bytes())}
    )
    _refused(response, 422, "file", "at most 10 files")
    assert _snapshot() == before


def test_a_batch_with_one_bad_file_stores_none(
    cast: dict[str, Any], draft: dict[str, Any], settings: Any
) -> None:
    alice = client_for(cast["alice"])
    before = _snapshot()
    response = alice.post(
        f"{draft['url']}/files",
        {
            "file": [
                SimpleUploadedFile("good.png", png_bytes()),
                SimpleUploadedFile("bad.png", b"<html><script>alert(1)</script></html>"),
            ]
        },
    )
    _refused(response, 422, "file", "bad.png")
    assert _snapshot() == before
    stored = Path(settings.MEDIA_ROOT)
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))


def test_an_eleven_megabyte_file_is_too_large(cast: dict[str, Any], draft: dict[str, Any]) -> None:
    before = _snapshot()
    big = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)
    response = client_for(cast["alice"]).post(
        f"{draft['url']}/files", {"file": SimpleUploadedFile("big.pdf", big)}
    )
    _refused(response, 413, None, "at most 10 mb")
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.pdf", b"<!DOCTYPE html><html><body>hi</body></html>"),
        ("page.png", b"<html><body onload=alert(1)>x</body></html>"),
        ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ("logo.pdf", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>'),
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
        ("tool.png", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64),
        ("notes.pdf", b"Plain text pretending to be a PDF."),
        ("photo.png", pdf_bytes()),
    ],
)
def test_disguised_files_are_refused_by_their_content(
    cast: dict[str, Any], draft: dict[str, Any], name: str, content: bytes
) -> None:
    before = _snapshot()
    response = client_for(cast["alice"]).post(
        f"{draft['url']}/files", {"file": SimpleUploadedFile(name, content)}
    )
    _refused(response, 422, "file", name)
    assert _snapshot() == before


def test_a_zero_byte_file_is_refused(cast: dict[str, Any], draft: dict[str, Any]) -> None:
    before = _snapshot()
    response = client_for(cast["alice"]).post(
        f"{draft['url']}/files", {"file": SimpleUploadedFile("empty.pdf", b"")}
    )
    _refused(response, 422, "file", "empty")
    assert _snapshot() == before


def test_a_300_character_file_name_is_refused(cast: dict[str, Any], draft: dict[str, Any]) -> None:
    before = _snapshot()
    response = client_for(cast["alice"]).post(
        f"{draft['url']}/files", {"file": SimpleUploadedFile("a" * 296 + ".png", png_bytes())}
    )
    _refused(response, 422, "file", "characters long; the limit is 200")
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../../etc/passwd.png", "path"),
        ("..\\boot.png", "path"),
        ("a\x00b.png", "nul"),
        ("a\r\nContent-Type: text/html.png", "line break"),
        ("x" * 300 + ".png", "the limit is 200"),
    ],
)
def test_unsafe_file_names_are_refused_by_the_action(
    cast: dict[str, Any], draft: dict[str, Any], name: str, words: str
) -> None:
    before = _snapshot()
    with pytest.raises(ValidationFailed) as refused:
        appeal_attach(actor=cast["alice"], appeal=draft["id"], uploads=[(name, png_bytes())])
    assert words in str(refused.value).lower()
    assert _snapshot() == before


def _multipart_with_name(name: bytes) -> tuple[bytes, str]:
    """A hand-made multipart body, so that the file name arrives exactly as a client sent it."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="' + name + b'"\r\n'
        b"Content-Type: image/png\r\n\r\n" + png_bytes() + b"\r\n--B--\r\n"
    )
    return body, "multipart/form-data; boundary=B"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        (b"../../evil.png", "path"),
        (b"..\\boot.png", "path"),
        (b"a\x00b.png", "nul"),
        (b"x" * 300 + b".png", "the limit is 200"),
        (b"a&#10;b.png", "line break"),
    ],
)
def test_unsafe_file_names_are_refused_over_http(
    cast: dict[str, Any], draft: dict[str, Any], name: bytes, words: str
) -> None:
    before = _snapshot()
    body, content_type = _multipart_with_name(name)
    response = client_for(cast["alice"]).generic(
        "POST", f"{draft['url']}/files", body, content_type=content_type
    )
    _refused(response, 422, "file", words)
    assert _snapshot() == before


def test_another_sellers_defect_is_not_found(cast: dict[str, Any], make_event: Any) -> None:
    defect = negative_feedback(make_event, order="222-0000001-0000001", seller="S-2")
    response = client_for(cast["alice"]).post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION},
        content_type=JSON,
    )
    _refused(response, 404)
    assert "S-2" not in str(response.json())
    assert not Appeal.objects.exists()


def test_another_sellers_appeal_is_not_found(cast: dict[str, Any], draft: dict[str, Any]) -> None:
    carol = client_for(cast["carol"])
    before = _snapshot()
    for method, path in (
        ("get", ""),
        ("post", "/submit"),
        ("post", "/withdraw"),
        ("get", "/packet.pdf"),
    ):
        _refused(getattr(carol, method)(draft["url"] + path), 404)
    assert _snapshot() == before
    assert carol.get("/api/v1/appeals").json()["count"] == 0


def test_a_merchant_calling_a_reviewer_action_gets_404(
    cast: dict[str, Any], draft: dict[str, Any]
) -> None:
    alice = client_for(cast["alice"])
    alice.post(f"{draft['url']}/submit")
    before = _snapshot()
    for path, body in (
        ("/decide", {"decision": "approve", "note": "mine"}),
        ("/assign", {"reviewer": "rita"}),
        ("/request-info", {"question": "?"}),
    ):
        _refused(alice.post(draft["url"] + path, body, content_type=JSON), 404)
    _refused(alice.get("/api/v1/review/queue"), 404)
    seller_token = token_client(seller=draft["defect"].seller)
    _refused(
        seller_token.post(f"{draft['url']}/decide", {"decision": "approve"}, content_type=JSON), 404
    )
    assert _snapshot() == before


def test_read_only_staff_may_not_file(cast: dict[str, Any], make_event: Any) -> None:
    defect = negative_feedback(make_event)
    bob = client_for(cast["bob"])
    response = bob.post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION},
        content_type=JSON,
    )
    _refused(response, 403, None, "read-only")
    read_only_token = token_client(seller=defect.seller, read_only=True)
    _refused(
        read_only_token.post(
            "/api/v1/appeals",
            {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION},
            content_type=JSON,
        ),
        403,
    )
    assert not Appeal.objects.exists()


def test_read_only_staff_may_not_change_a_draft(
    cast: dict[str, Any], draft: dict[str, Any]
) -> None:
    bob = client_for(cast["bob"])
    assert bob.get(draft["url"]).status_code == 200
    before = _snapshot()
    _refused(bob.post(f"{draft['url']}/submit"), 403)
    _refused(
        bob.post(f"{draft['url']}/files", {"file": SimpleUploadedFile("a.png", png_bytes())}), 403
    )
    _refused(
        bob.patch(draft["url"], {"explanation": EXPLANATION + " more"}, content_type=JSON), 403
    )
    assert _snapshot() == before


def test_submitting_twice_is_a_conflict(cast: dict[str, Any], draft: dict[str, Any]) -> None:
    alice = client_for(cast["alice"])
    assert alice.post(f"{draft['url']}/submit").status_code == 200
    before = _snapshot()
    _refused(alice.post(f"{draft['url']}/submit"), 409, None, "submitted")
    assert _snapshot() == before


def test_withdrawing_after_a_decision_is_a_conflict(
    cast: dict[str, Any], draft: dict[str, Any]
) -> None:
    alice, rita = client_for(cast["alice"]), client_for(cast["rita"])
    alice.post(f"{draft['url']}/submit")
    denied = rita.post(
        f"{draft['url']}/decide", {"decision": "deny", "note": "Not shown."}, content_type=JSON
    )
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    before = _snapshot()
    _refused(alice.post(f"{draft['url']}/withdraw"), 409, None, "already decided")
    _refused(
        rita.post(
            f"{draft['url']}/decide", {"decision": "deny", "note": "Again."}, content_type=JSON
        ),
        409,
    )
    assert _snapshot() == before


def test_replying_without_an_information_request_is_a_conflict(
    cast: dict[str, Any], draft: dict[str, Any]
) -> None:
    alice = client_for(cast["alice"])
    alice.post(f"{draft['url']}/submit")
    before = _snapshot()
    _refused(
        alice.post(f"{draft['url']}/reply", {"message": "Here it is."}, content_type=JSON),
        409,
        None,
        "no information was requested",
    )
    assert _snapshot() == before


def test_a_second_open_appeal_on_a_defect_is_a_conflict(
    cast: dict[str, Any], draft: dict[str, Any]
) -> None:
    before = _snapshot()
    with pytest.raises(Exception) as refused:
        appeal_create(
            actor=cast["alice"], defect=draft["defect"], reason="other", explanation=EXPLANATION
        )
    assert getattr(refused.value, "status", None) == 409
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "maybe", "note": "?"}, "decision"),
        ({"decision": "deny", "note": ""}, "note"),
        ({"note": "x"}, "decision"),
    ],
)
def test_a_malformed_decision_is_refused(
    cast: dict[str, Any], draft: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    client_for(cast["alice"]).post(f"{draft['url']}/submit")
    before = _snapshot()
    _refused(
        client_for(cast["rita"]).post(f"{draft['url']}/decide", body, content_type=JSON), 422, field
    )
    assert _snapshot() == before


def test_bad_pages_and_statuses_are_refused(cast: dict[str, Any]) -> None:
    alice = client_for(cast["alice"])
    _refused(alice.get("/api/v1/appeals?status=lost"), 422, "status")
    _refused(alice.get("/api/v1/appeals?page=0"), 422, "page")
    _refused(alice.get("/api/v1/appeals?page_size=100000"), 422, "page_size")
    _refused(alice.get("/api/v1/appeals?page=abc"), 422, "page")


def test_anonymous_requests_are_unauthorised(cast: dict[str, Any], draft: dict[str, Any]) -> None:
    from django.test import Client

    _refused(Client().get(draft["url"]), 401)
    _refused(Client().post("/api/v1/appeals", {}, content_type=JSON), 401)


def test_an_action_that_stores_files_refuses_to_run_inside_a_callers_transaction(
    cast: dict[str, Any], draft: dict[str, Any], settings: Any
) -> None:
    """Its files are promoted when its own transaction commits and deleted when it rolls back;
    inside a caller's transaction it could see neither, so it writes nothing and refuses."""
    from django.db import transaction

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        appeal_attach(actor=cast["alice"], appeal=draft["id"], uploads=[("a.png", png_bytes())])
    stored = Path(settings.MEDIA_ROOT)
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))
    assert not AppealFile.objects.exists()
