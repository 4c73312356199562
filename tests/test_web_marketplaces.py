"""A seller in several marketplaces, on either side of UTC: every page works, one at a time."""

from __future__ import annotations

from typing import Any

import pytest

from defectdesk.accounts.models import UserPreference
from defectdesk.core.models import AuditEvent
from defectdesk.ledger.models import Marketplace
from tests.test_appeal_support import client_for, frozen, ingest, media  # noqa: F401 - fixtures
from tests.test_web_support import shop

pytestmark = pytest.mark.usefixtures("media", "frozen")


@pytest.fixture
def two_markets(cast: dict[str, Any], make_event: Any) -> dict[str, Any]:
    """S-1 sells in US (Los Angeles) and CN (Shanghai); its latest order is in CN."""
    Marketplace.objects.create(code="CN", name="China", timezone="Asia/Shanghai", currency="CNY")
    defects = shop(make_event)
    ingest(
        make_event(
            order="CN-0001",
            marketplace="CN",
            at="2026-10-11T16:30:00Z",  # 00:30 on Oct 12 in Shanghai
            total={"amount": "88.00", "currency": "CNY"},
            ship_by="2026-10-13T23:59:59+08:00",
            deliver_by="2026-10-20T23:59:59+08:00",
        )
    )
    return defects


def _body(response: Any) -> str:
    return response.content.decode()


def test_home_of_a_seller_in_two_marketplaces_shows_the_latest_one(two_markets: Any, cast: Any):
    alice = client_for(cast["alice"])
    response = alice.get("/")
    assert response.status_code == 200
    body = _body(response)
    assert "CN · Asia/Shanghai · CNY · China" in body
    assert "US · America/Los_Angeles · USD · United States" in body  # the other choice


def test_every_merchant_page_answers_in_each_marketplace(two_markets: Any, cast: Any) -> None:
    alice = client_for(cast["alice"])
    order = two_markets["feedback"].order
    for market in ("", "US", "CN"):
        query = f"?marketplace={market}" if market else ""
        for url in ["/", "/orders/", "/orders/?problem=1", "/appeals/", "/messages/"]:
            response = alice.get(url + query)
            assert response.status_code == 200, (url, market, response.status_code)
    assert alice.get(f"/orders/US/{order.order_ref}/").status_code == 200
    assert alice.get("/orders/CN/CN-0001/").status_code == 200
    assert alice.get(f"/defects/{two_markets['feedback'].pk}/appeal/").status_code == 200


def test_orders_show_one_marketplace_at_a_time(two_markets: Any, cast: Any) -> None:
    alice = client_for(cast["alice"])
    us = _body(alice.get("/orders/?marketplace=US"))
    cn = _body(alice.get("/orders/?marketplace=CN"))
    assert "111-0000001-0000001" in us and "CN-0001" not in us
    assert "CN-0001" in cn and "111-0000001-0000001" not in cn


def test_switching_is_remembered_for_the_user(two_markets: Any, cast: Any) -> None:
    alice = client_for(cast["alice"])
    response = alice.post("/marketplace/", {"marketplace": "US", "next": "orders"})
    assert response.status_code == 302
    assert response["Location"] == "/orders/?marketplace=US"
    assert UserPreference.objects.get(user=cast["alice"]).marketplace == "US"
    # A new session of the same user opens on the remembered marketplace.
    again = client_for(cast["alice"])
    body = _body(again.get("/orders/"))
    assert "111-0000001-0000001" in body and "CN-0001" not in body


def test_an_unknown_marketplace_is_404_naming_the_sellers_marketplaces(
    two_markets: Any, cast: Any
) -> None:
    alice = client_for(cast["alice"])
    for code in ("XX", "DE", "<b>x</b>"):
        response = alice.get("/", {"marketplace": code})
        assert response.status_code == 404, code
        assert "it sells in: CN, US" in response.content.decode(), code
        assert "<b>x</b>" not in response.content.decode()
    # A NUL byte is taken out of a page's query before the page reads it.
    assert alice.get("/?marketplace=%00", follow=True).status_code == 200
    response = alice.post("/marketplace/", {"marketplace": "XX", "next": "health"})
    assert response.status_code == 404
    assert UserPreference.objects.filter(user=cast["alice"]).count() == 0


def test_a_marketplace_the_seller_does_not_sell_in_is_404_in_the_api(
    two_markets: Any, cast: Any
) -> None:
    Marketplace.objects.create(code="DE", name="Germany", timezone="Europe/Berlin", currency="EUR")
    alice = client_for(cast["alice"])
    response = alice.get("/api/v1/sellers/S-1/health?marketplace=DE")
    assert response.status_code == 404
    assert "CN, US" in response.json()["detail"]


def test_the_api_asks_for_the_marketplace_only_when_ambiguous(two_markets: Any, cast: Any):
    alice = client_for(cast["alice"])
    response = alice.get("/api/v1/sellers/S-1/health")
    assert response.status_code == 422
    assert "CN, US" in response.json()["detail"]
    assert alice.get("/api/v1/sellers/S-1/health?marketplace=CN").json()["marketplace"] == "CN"
    # S-2 sells only in US: no need to name it.
    carol = client_for(cast["carol"])
    assert carol.get("/api/v1/sellers/S-2/health").json()["marketplace"] == "US"


def test_a_seller_with_no_orders_gets_a_friendly_empty_page(cast: Any) -> None:
    from defectdesk.accounts.actions import user_create
    from defectdesk.core.actors import SYSTEM

    Marketplace.objects.create(code="CN", name="China", timezone="Asia/Shanghai", currency="CNY")
    newbie = user_create(
        actor=SYSTEM, username="nina", password="correct-horse-1", seller="S-9", role="owner"
    )
    client = client_for(newbie)
    for url in ["/", "/orders/", "/appeals/", "/messages/"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "has no orders yet" in _body(client.get("/"))


def test_staff_land_on_their_own_home_and_find_sellers(two_markets: Any, cast: Any) -> None:
    rita, otto = client_for(cast["rita"]), client_for(cast["otto"])
    assert rita.get("/")["Location"] == "/review/"
    assert otto.get("/")["Location"] == "/operator/"
    assert rita.get("/review/").status_code == 200
    found = _body(rita.get("/sellers/?q=S-1"))
    assert "?seller=S-1" in found and "?seller=S-2" not in found
    for q in ("' OR 1=1 --", "<script>alert(1)</script>", "%00"):
        response = rita.get("/sellers/", {"q": q})
        assert response.status_code == 200, q
        assert "<script>alert(1)</script>" not in _body(response)
    # Picking a seller opens its pages, with the marketplace switcher.
    body = _body(rita.get("/?seller=S-1"))
    assert "CN · Asia/Shanghai · CNY · China" in body
    assert rita.get("/?seller=S-1&marketplace=US").status_code == 200


def test_times_are_shown_in_the_marketplace_zone_with_its_name(two_markets: Any, cast: Any):
    alice = client_for(cast["alice"])
    cn = _body(alice.get("/orders/CN/CN-0001/"))
    assert "Times in Asia/Shanghai" in cn
    assert "CST" in cn and "UTC" not in cn.replace("Times in UTC", "")
    us = _body(alice.get("/orders/US/111-0000001-0000001/"))
    assert "Times in America/Los_Angeles" in us and "PDT" in us


def test_a_user_may_choose_their_own_zone(two_markets: Any, cast: Any) -> None:
    alice = client_for(cast["alice"])
    response = alice.post("/settings/you/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "is not a known time zone" in _body(response)
    assert not UserPreference.objects.filter(user=cast["alice"]).exists()
    response = alice.post("/settings/you/", {"time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    assert UserPreference.objects.get(user=cast["alice"]).time_zone == "Europe/Berlin"
    assert AuditEvent.objects.filter(action="user.time_zone_set").count() == 1
    body = _body(client_for(cast["alice"]).get("/orders/CN/CN-0001/"))
    assert "Times in Europe/Berlin" in body and "CEST" in body


def test_the_appeal_form_keeps_its_marketplace_while_another_is_chosen(
    two_markets: Any, cast: Any
) -> None:
    alice = client_for(cast["alice"])
    alice.post("/marketplace/", {"marketplace": "CN", "next": "health"})
    body = _body(alice.get(f"/defects/{two_markets['feedback'].pk}/appeal/"))
    assert "US · America/Los_Angeles · USD" in body and "Times in America/Los_Angeles" in body
