"""A seller's health JSON by external id, as the tests read it."""

from __future__ import annotations

from datetime import date
from typing import Any

from defectdesk.accounts.models import Seller
from defectdesk.core.errors import NotFound
from defectdesk.metrics.health import scope_for, seller_health


def health_as_of(seller: str, marketplace: str, day: date | None = None) -> dict[str, Any]:
    """A seller's health JSON as of a day (default: today in the marketplace)."""
    found = Seller.objects.filter(external_id=seller).first()
    if found is None:
        raise NotFound(f"Seller {seller!r} not found.")
    scope = scope_for(found, marketplace)
    return seller_health(scope, day or scope.today)
