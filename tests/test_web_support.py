"""Shared pieces of the Seller Center tests: a small shop with problem orders, signed-in clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from defectdesk.defects.models import Defect
from tests.test_appeal_support import EXPLANATION, NOW, ingest, negative_feedback

__all__ = ["EXPLANATION", "NOW", "browser_client", "shop"]


def browser_client(user: Any) -> Client:
    """A signed-in client that enforces CSRF like a browser would not skip it (forms carry it)."""
    client = Client()
    client.force_login(user)
    return client


def shop(make_event: Callable[..., dict[str, Any]]) -> dict[str, Defect]:
    """S-1 with a negative feedback (merchant-fulfilled) and plain orders; S-2 with its own."""
    feedback = negative_feedback(make_event, order="111-0000001-0000001")
    other = negative_feedback(make_event, order="111-0000003-0000003")
    for i in range(4, 9):
        ingest(
            make_event(
                order=f"111-000000{i}-000000{i}",
                at=f"2026-10-0{i - 2}T12:00:00Z",
                buyer=f"B-{i}",
                items=[{"sku": f"SKU-{i}", "title": "Thing", "quantity": 1, "price": "5.00"}],
            )
        )
    foreign = negative_feedback(make_event, order="222-0000001-0000001", seller="S-2")
    return {"feedback": feedback, "other": other, "foreign": foreign}
