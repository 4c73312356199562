"""Codes in words: the review page, its timeline and the packet show labels, not codes."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from defectdesk.accounts.models import Seller
from defectdesk.appeals.actions import appeal_attach, appeal_create, appeal_submit
from defectdesk.appeals.packet import packet_render
from defectdesk.core.timeutil import local_text, zone
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    NOW,
    claim_refunded_first,
    client_for,
    frozen,
    media,
    png_bytes,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")

RAW = [
    "order.placed",
    "order.shipped",
    "a_to_z_claim",
    "granted_seller_funded",
    "not_received",
    "signature: False",
    "signature: True",
    "{'at'",
    "'outcome'",
    "appeal.submit",
    "refund_before_claim",
    "filed_at",
    "refund_event",
]


def _claim_appeal(cast: dict[str, Any], make_event: Any) -> Any:
    Seller.objects.filter(external_id="S-1").update(name="Cascade Kitchenware")
    defect = claim_refunded_first(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="refunded_before_claim", explanation=EXPLANATION
    )
    appeal_attach(actor=cast["alice"], appeal=appeal, uploads=[("box.png", png_bytes())])
    return appeal_submit(actor=cast["alice"], appeal=appeal)


def test_the_review_page_shows_labels_not_codes_or_python_reprs(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = _claim_appeal(cast, make_event)
    html = client_for(cast["rita"]).get(f"/review/appeals/{appeal.pk}/").content.decode()
    text = re.sub(r"<[^>]+>", " ", html)
    text = re.sub(r'(value|name|class|id|data-[a-z]+)="[^"]*"', "", text)
    for raw in RAW:
        assert raw not in text, raw
    assert "Order placed" in text and "Submitted" in text


def test_the_packet_reads_like_a_document_a_merchant_sends(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = _claim_appeal(cast, make_event)
    reader = PdfReader(io.BytesIO(packet_render(appeal)))
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    text = " ".join(pages)
    assert "Cascade Kitchenware" in text
    assert all(f"Page {n}" in page for n, page in enumerate(pages, start=1))
    submitted = local_text(appeal.submitted_at, zone("America/Los_Angeles"))
    assert submitted in text and "(America/Los_Angeles)" in text and "UTC" not in text
    for raw in RAW:
        assert raw not in text, raw
    assert f"(id {appeal.defect.pk})" not in text
    assert "A-to-z Guarantee claim" in text


def test_local_text_names_the_zone() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 4, 0, 5, tzinfo=UTC)
    assert local_text(moment, zone("America/Los_Angeles")) == (
        "3 Dec 2026, 16:05 PST (America/Los_Angeles)"
    )
