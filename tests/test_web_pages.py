"""Every Seller Center page renders for its audience, and only for it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_appeal_support import client_for, frozen, media  # noqa: F401 - fixtures
from tests.test_web_support import shop

pytestmark = pytest.mark.usefixtures("media", "frozen")


def test_every_page_renders_for_the_owner(cast: dict[str, Any], make_event: Any) -> None:
    defects = shop(make_event)
    alice = client_for(cast["alice"])
    order = defects["feedback"].order
    for url in [
        "/",
        "/orders/",
        "/orders/?problem=1",
        f"/orders/US/{order.order_ref}/",
        f"/defects/{defects['feedback'].pk}/appeal/",
        "/appeals/",
        "/appeals/?tab=review",
        "/appeals/?tab=decided",
        "/messages/",
        "/notifications/",
        "/settings/users/",
        "/settings/tokens/",
    ]:
        response = alice.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.content.decode()
        assert "Account health" in body and "Appeals" in body and "Messages" in body, url


def test_signed_out_visitors_go_to_sign_in(db: Any) -> None:
    from django.test import Client

    response = Client().get("/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=/orders/")
