"""Shared helpers of the appeal tests: orders with defects, API clients, sample files."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from PIL import Image

from defectdesk.accounts.models import ApiToken
from defectdesk.accounts.tokens import token_generate, token_hash
from defectdesk.defects.models import Defect
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Order

NOW = datetime(2026, 10, 12, 12, 0, tzinfo=UTC)
EXPLANATION = (
    "The buyer's comment is about the marketplace's own delivery service, not about anything "
    "we did; we never handled this parcel."
)


def ingest(*events: dict[str, Any]) -> None:
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert result.rejected == [], result.rejected


def defect_on(order_ref: str, kind: str, *, source_key: str = "", opened_at: datetime) -> Defect:
    """The order's defect of this kind: from the defect projection, or made here if it lags."""
    order = Order.objects.get(order_ref=order_ref)
    found = Defect.objects.filter(order=order, kind=kind).order_by("id").first()
    if found is not None:
        return found
    return Defect.objects.create(
        order=order,
        seller_id=order.seller_id,
        marketplace_id=order.marketplace_id,
        kind=kind,
        source_key=source_key,
        opened_at=opened_at,
        status=Defect.Status.ACTIVE,
        ledger_intervals=[[opened_at.isoformat(), None]],
    )


def negative_feedback(
    make_event: Callable[..., dict[str, Any]],
    *,
    order: str = "111-0000001-0000001",
    seller: str = "S-1",
    fulfillment: str = "merchant",
    placed: str = "2026-10-01T12:00:00Z",
    posted: str = "2026-10-06T09:00:00Z",
) -> Defect:
    """An order of `seller` with a 1-star feedback: its negative_feedback defect."""
    ingest(
        make_event(order=order, seller=seller, at=placed, fulfillment=fulfillment),
        make_event(
            "order.shipped",
            order=order,
            seller=seller,
            at="2026-10-02T10:00:00Z",
            carrier="UPS",
            tracking_number="1Z999",
        ),
        make_event(
            "shipment.scanned",
            order=order,
            seller=seller,
            at="2026-10-02T18:00:00Z",
            status="accepted",
            location="Reno, NV",
        ),
        make_event(
            "order.delivered", order=order, seller=seller, at="2026-10-05T15:00:00Z", signature=True
        ),
        make_event(
            "feedback.posted",
            order=order,
            seller=seller,
            at=posted,
            feedback_id=f"FB-{order}",
            rating=1,
            comment="Arrived late and damaged",
        ),
    )
    return defect_on(
        order,
        "negative_feedback",
        source_key=f"FB-{order}",
        opened_at=datetime.fromisoformat(posted.replace("Z", "+00:00")),
    )


def claim_refunded_first(
    make_event: Callable[..., dict[str, Any]], *, order: str = "111-0000002-0000002"
) -> Defect:
    """An order refunded on Oct 3 and then claimed on Oct 7: its a_to_z_claim defect."""
    ingest(
        make_event(order=order, at="2026-10-01T12:00:00Z"),
        make_event(
            "refund.issued",
            order=order,
            at="2026-10-03T12:00:00Z",
            amount="19.99",
            initiated_by="seller",
            reason="buyer asked",
        ),
        make_event(
            "claim.filed",
            order=order,
            at="2026-10-07T12:00:00Z",
            claim_id="C-1",
            reason="not_received",
            amount="19.99",
        ),
    )
    return defect_on(
        order, "a_to_z_claim", source_key="C-1", opened_at=datetime(2026, 10, 7, 12, tzinfo=UTC)
    )


def client_for(user: Any) -> Client:
    """A browser-like client signed in as the user (CSRF checks off, as in a test client)."""
    client = Client()
    client.force_login(user)
    return client


def token_client(
    *, seller: Any = None, scopes: list[str] | None = None, read_only: bool = False
) -> Client:
    """An API client with a bearer token of a seller or of scopes."""
    raw, prefix = token_generate()
    ApiToken.objects.create(
        name="t",
        prefix=prefix,
        token_hash=token_hash(raw),
        scopes=scopes or [],
        seller=seller,
        read_only=read_only,
    )
    return Client(headers={"Authorization": f"Bearer {raw}"})


def png_bytes(color: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(color: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 40), color).save(out, "JPEG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    """Evidence files go to a temporary directory."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield
