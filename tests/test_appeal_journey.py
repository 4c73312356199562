"""The whole appeal journey over the API: draft, files, submit, information, reply, approval."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from defectdesk.appeals.models import Appeal
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.notify.actions import outbox_deliver
from defectdesk.notify.models import Notification, OutboxMessage
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    NOW,
    client_for,
    frozen,
    jpeg_bytes,
    media,
    negative_feedback,
    png_bytes,
    token_client,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")


def _odr(seller: str, day: str) -> dict[str, Any]:
    from tests.health import health_as_of

    return health_as_of(seller, "US", __import__("datetime").date.fromisoformat(day))["metrics"][
        "order_defect_rate"
    ]


def test_alice_appeals_negative_feedback_and_rita_approves(
    cast: dict[str, Any], make_event: Any
) -> None:
    cast["alice"].email = "alice@example.com"
    cast["alice"].save()
    defect = negative_feedback(make_event)
    negative_feedback(make_event, order="111-0000009-0000009")  # a second order keeps ODR > 0
    alice, rita = client_for(cast["alice"]), client_for(cast["rita"])

    created = alice.post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "product_review_only", "explanation": EXPLANATION},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    appeal = created.json()
    assert appeal["status"] == "draft"
    assert appeal["suggested_explanation"].startswith("The feedback on order")
    assert any(r["code"] == "product_review_only" and r["guidance"] for r in appeal["reasons"])
    url = f"/api/v1/appeals/{appeal['id']}"

    files = alice.post(
        f"{url}/files",
        {
            "file": [
                SimpleUploadedFile("box.png", png_bytes("red"), content_type="image/png"),
                SimpleUploadedFile("label.jpg", jpeg_bytes("blue"), content_type="image/jpeg"),
            ]
        },
    )
    assert files.status_code == 201, files.json()
    assert [f["name"] for f in files.json()["files"]] == ["box.png", "label.jpg"]

    submitted = alice.post(f"{url}/submit")
    assert submitted.status_code == 200, submitted.json()
    body = submitted.json()
    assert body["status"] == "submitted"
    assert body["decision_expected_by"] == (NOW + timedelta(hours=48)).isoformat().replace(
        "+00:00", "Z"
    )
    assert body["system_evidence"]["delivery"]["signature"] is True
    assert [t["type"] for t in body["system_evidence"]["timeline"]][:2] == [
        "order.placed",
        "order.shipped",
    ]

    queue = rita.get("/api/v1/review/queue").json()
    assert [a["id"] for a in queue["items"]] == [appeal["id"]]

    asked = rita.post(
        f"{url}/request-info",
        {"question": "Please send the product photos."},
        content_type="application/json",
    )
    assert asked.status_code == 200, asked.json()
    assert asked.json()["status"] == "info_requested"
    assert asked.json()["info_due_at"] == (NOW + timedelta(hours=72)).isoformat().replace(
        "+00:00", "Z"
    )

    replied = alice.post(
        f"{url}/reply",
        {"message": "The photos are attached to the appeal."},
        content_type="application/json",
    )
    assert replied.status_code == 200, replied.json()
    assert replied.json()["status"] == "in_review"

    health_before = _odr("S-1", "2026-10-20")
    decided = rita.post(
        f"{url}/decide",
        {"decision": "approve", "note": "Product review only."},
        content_type="application/json",
    )
    assert decided.status_code == 200, decided.json()
    final = decided.json()
    assert final["status"] == "approved"
    assert final["decision"]["by"] == "rita" and final["decision"]["cause"] == "reviewer"
    again = rita.post(
        f"{url}/decide", {"decision": "deny", "note": "No."}, content_type="application/json"
    )
    assert again.status_code == 409

    defect.refresh_from_db()
    assert defect.status == Defect.Status.REMOVED
    assert defect.removal_cause == Defect.RemovalCause.APPEAL
    assert defect.removed_by_appeal_id == appeal["id"]
    health_after = _odr("S-1", "2026-10-20")
    assert health_after["numerator"] == health_before["numerator"] - 1
    assert health_after["denominator"] == health_before["denominator"]

    steps = [
        (e.action, e.from_state, e.to_state)
        for e in AuditEvent.objects.filter(
            object_type="appeal", object_id=str(appeal["id"])
        ).order_by("id")
    ]
    assert steps == [
        ("appeal.create", "", "draft"),
        ("appeal.attach", "draft", "draft"),
        ("appeal.submit", "draft", "submitted"),
        ("appeal.pick_up", "submitted", "in_review"),
        ("appeal.request_info", "in_review", "info_requested"),
        ("appeal.reply", "info_requested", "in_review"),
        ("appeal.approve", "in_review", "approved"),
    ]
    assert [h["action"] for h in final["history"]] == [s[0] for s in steps]

    assert OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
    outbox_deliver()
    mine = list(
        Notification.objects.filter(user=cast["alice"])
        .order_by("id")
        .values_list("subject", flat=True)
    )
    # Alice is not told of what she did herself (submitting, replying); her staff are.
    assert mine == [
        f"Appeal {appeal['id']}: {s}" for s in ("in review", "information requested", "approved")
    ]
    assert Notification.objects.filter(user=cast["bob"]).count() == 5  # her staff too
    listed = alice.get("/api/v1/notifications").json()
    assert (listed["count"], listed["unread"]) == (3, 3)
    assert listed["items"][0]["subject"] == f"Appeal {appeal['id']}: approved"
    assert listed["items"][0]["link"] == f"http://127.0.0.1:8000/appeals/{appeal['id']}/"
    ids = [n["id"] for n in listed["items"]]
    assert alice.post(
        "/api/v1/notifications/read", {"ids": ids}, content_type="application/json"
    ).json() == {"marked": 3}
    assert client_for(cast["carol"]).get("/api/v1/notifications").json()["count"] == 0
    assert not Notification.objects.filter(user=cast["carol"]).exists()
    from django.core import mail

    assert sum("alice@example.com" in m.to for m in mail.outbox) == 3

    pdf = alice.get(f"{url}/packet.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert " ".join(EXPLANATION.split()) in text
    assert sum(len(p.images) for p in reader.pages) == 2


def test_files_download_only_as_attachments_to_those_who_see_the_appeal(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    alice = client_for(cast["alice"])
    appeal = alice.post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION},
        content_type="application/json",
    ).json()
    alice.post(
        f"/api/v1/appeals/{appeal['id']}/files",
        {"file": SimpleUploadedFile("note.txt", b"Tracking shows delivery.\n")},
    )
    item = Appeal.objects.get().files.get()
    assert item.storage_name.endswith(".txt") and "note" not in item.storage_name
    url = f"/api/v1/appeals/{appeal['id']}/files/{item.pk}"
    got = alice.get(url)
    assert got.status_code == 200
    assert got["Content-Disposition"].startswith("attachment;")
    assert got["X-Content-Type-Options"] == "nosniff"
    assert b"".join(got.streaming_content) == b"Tracking shows delivery.\n"
    assert client_for(cast["rita"]).get(url).status_code == 200
    assert client_for(cast["carol"]).get(url).status_code == 404
    assert token_client(scopes=["review"]).get(url).status_code == 200
    assert token_client(scopes=["ingest"]).get(url).status_code == 404
