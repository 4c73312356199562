"""Merchants see only their own sellers' orders, on every page and endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from defectdesk.accounts.selectors import sellers_visible_to
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.selectors import orders_visible_to


@pytest.fixture
def two_orders(cast: Any, make_event: Any) -> None:
    events = [
        make_event(order="111-0000001-0000001", seller="S-1", event_id="a-1"),
        make_event(order="222-0000002-0000002", seller="S-2", event_id="c-1"),
    ]
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert result.created == 2


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_alice_sees_her_orders_and_not_carols(cast: Any, two_orders: None) -> None:
    page = signed_in(cast["alice"]).get("/orders/", follow=True)
    assert page.status_code == 200
    assert b"111-0000001-0000001" in page.content
    assert b"222-0000002-0000002" not in page.content


def test_carol_gets_404_on_an_order_of_s1(cast: Any, two_orders: None) -> None:
    carol = signed_in(cast["carol"])
    assert carol.get("/orders/US/111-0000001-0000001/").status_code == 404
    assert carol.get("/orders/US/222-0000002-0000002/").status_code == 200
    assert carol.get("/orders/US/999-does-not-exist/").status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(two_orders: None) -> None:
    response = Client().get("/orders/US/111-0000001-0000001/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")


def test_selectors_scope_by_role(cast: Any, two_orders: None) -> None:
    assert [o.order_ref for o in orders_visible_to(cast["bob"])] == ["111-0000001-0000001"]
    assert orders_visible_to(cast["rita"]).count() == 2
    assert orders_visible_to(cast["otto"]).count() == 2
    assert set(sellers_visible_to(cast["carol"]).values_list("external_id", flat=True)) == {"S-2"}


def test_sign_in_page_signs_alice_in(cast: Any) -> None:
    client = Client()
    response = client.post("/signin/", {"username": "alice", "password": "correct-horse-1"})
    assert response.status_code == 302
    wrong = Client().post("/signin/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200
    assert b"didn" in wrong.content
