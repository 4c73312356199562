"""GET /api/v1/sellers/{seller}/health and its history, explanations and outlook."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import path

from defectdesk.api.app import api, register_routers
from defectdesk.ledger.ingest import Candidate, events_ingest

# The API on its own, so these tests do not depend on the web pages.
register_routers()
urlpatterns = [path("api/v1/", api.urls)]
pytestmark = pytest.mark.urls(__name__)
TODAY = "2026-10-20T18:00:00Z"  # 2026-10-20 in Los Angeles


def ingest(*events: dict[str, Any]) -> None:
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert not result.rejected, result.rejected


@pytest.fixture
def ledger(cast: dict[str, Any], make_event: Any) -> None:
    """S-1: 4 orders, one with negative feedback and one shipped late; S-2: one clean order."""
    events = []
    for n in range(4):
        ref = f"111-0000000-000000{n}"
        events.append(make_event(order=ref, at=f"2026-09-1{n}T18:00:00Z"))
        events.append(
            make_event(
                "order.shipped", order=ref, at=f"2026-09-1{n}T20:00:00Z", tracking_number="1Z"
            )
        )
        events.append(
            make_event(
                "shipment.scanned", order=ref, at=f"2026-09-1{n}T22:00:00Z", status="accepted"
            )
        )
    events.append(
        make_event(order="111-LATE", at="2026-10-10T18:00:00Z", ship_by="2026-10-11T23:59:59-07:00")
    )
    events.append(
        make_event(
            "order.shipped", order="111-LATE", at="2026-10-13T18:00:00Z", tracking_number="1Z"
        )
    )
    events.append(
        make_event(
            "feedback.posted",
            order="111-0000000-0000000",
            at="2026-09-20T18:00:00Z",
            feedback_id="F1",
            rating=1,
        )
    )
    events.append(make_event(order="222-1", seller="S-2", at="2026-09-12T18:00:00Z"))
    ingest(*events)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@time_machine.travel(TODAY, tick=False)
def test_health_json_has_the_design_shape(ledger: None, cast: dict[str, Any]) -> None:
    response = client_for(cast["alice"]).get("/api/v1/sellers/S-1/health?as_of=2026-10-20")
    assert response.status_code == 200
    body = response.json()
    assert (body["seller"], body["marketplace"], body["as_of"]) == ("S-1", "US", "2026-10-20")
    odr = body["metrics"]["order_defect_rate"]
    assert odr["window"] == {"from": "2026-08-08", "to": "2026-10-06"}
    assert (odr["numerator"], odr["denominator"]) == (1, 4)
    assert odr["rate"] == 0.25 and odr["status"] == "bad"
    assert odr["target"] == {"value": 0.01, "condition": "lt"}
    assert odr["components"] == {"negative_feedback": 1, "a_to_z_claim": 0, "chargeback": 0}
    assert odr["by_fulfillment"]["merchant"] == {"rate": 0.25, "numerator": 1, "denominator": 4}
    assert odr["by_fulfillment"]["marketplace"] == {"rate": None, "numerator": 0, "denominator": 0}
    lsr = body["metrics"]["late_shipment_rate"]
    assert (lsr["numerator"], lsr["denominator"], lsr["status"]) == (1, 1, "bad")
    cancel = body["metrics"]["pre_fulfillment_cancel_rate"]
    assert (cancel["rate"], cancel["status"]) == (None, "none")
    assert body["account_status"] == "at_risk"
    assert set(body["metrics"]) == {
        "order_defect_rate",
        "pre_fulfillment_cancel_rate",
        "late_shipment_rate",
        "valid_tracking_rate",
        "on_time_delivery_rate",
        "refund_rate",
        "contact_response_rate",
    }


@time_machine.travel(TODAY, tick=False)
def test_cli_prints_the_same_json_as_the_api(ledger: None, cast: dict[str, Any]) -> None:
    import io

    import orjson
    from django.core.management import call_command

    out = io.StringIO()
    call_command("health", "S-1", "--as-of", "2026-10-20", "--json", stdout=out, skip_checks=True)
    api = client_for(cast["rita"]).get("/api/v1/sellers/S-1/health?as_of=2026-10-20&marketplace=US")
    assert orjson.loads(out.getvalue()) == api.json()
    table = io.StringIO()
    call_command("health", "S-1", "--as-of", "2026-10-20", stdout=table, skip_checks=True)
    assert "at risk" in table.getvalue() and "25.00%" in table.getvalue()


@time_machine.travel(TODAY, tick=False)
def test_history_lists_every_day_with_its_counts(ledger: None, cast: dict[str, Any]) -> None:
    response = client_for(cast["bob"]).get(
        "/api/v1/sellers/S-1/health/history?metric=late_shipment_rate&from=2026-10-10&to=2026-10-14"
    )
    assert response.status_code == 200
    items = response.json()
    assert [i["date"] for i in items] == [f"2026-10-1{d}" for d in range(5)]
    # ship_by (10-11 23:59:59 in LA) has passed by the end of 10-11: late from that day on,
    # while the September orders leave the 30-day window one a day.
    assert [(i["numerator"], i["denominator"]) for i in items] == [
        (0, 3),
        (1, 3),
        (1, 2),
        (1, 1),
        (1, 1),
    ]
    assert items[0]["rate"] == 0.0 and items[0]["status"] == "good"
    assert items[3]["rate"] == 1.0 and items[3]["status"] == "bad"
    default = client_for(cast["alice"]).get("/api/v1/sellers/S-1/health/history")
    assert len(default.json()) == 90 and default.json()[-1]["date"] == "2026-10-20"


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("as_of=2026-10-21", "as_of"),
        ("as_of=20261001", "as_of"),
        ("as_of=2026-02-30", "as_of"),
    ],
)
def test_bad_as_of_is_422_naming_it(
    ledger: None, cast: dict[str, Any], query: str, field: str
) -> None:
    response = client_for(cast["alice"]).get(f"/api/v1/sellers/S-1/health?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    "query",
    [
        "from=2025-09-01&to=2026-10-20",  # 415 days
        "from=2026-10-10&to=2026-10-01",  # reversed
        "metric=order_defect_ratio",
        "to=2026-10-21",
    ],
)
def test_bad_history_range_is_422(ledger: None, cast: dict[str, Any], query: str) -> None:
    response = client_for(cast["alice"]).get(f"/api/v1/sellers/S-1/health/history?{query}")
    assert response.status_code == 422, response.content
    assert response.json()["errors"], response.json()


@time_machine.travel(TODAY, tick=False)
def test_foreign_and_unknown_sellers_and_marketplaces_are_404(
    ledger: None, cast: dict[str, Any]
) -> None:
    carol = client_for(cast["carol"])
    foreign = carol.get("/api/v1/sellers/S-1/health")
    unknown = carol.get("/api/v1/sellers/S-404/health")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["detail"] == "Seller 'S-1' not found."
    assert "S-1" not in str(
        carol.get("/api/v1/sellers/S-1/health/history").json()["detail"]
    ).replace("'S-1'", "")
    market = client_for(cast["alice"]).get("/api/v1/sellers/S-1/health?marketplace=XX")
    assert market.status_code == 404 and "'XX'" in market.json()["detail"]
    assert carol.get("/api/v1/sellers/S-2/health").status_code == 200
    assert Client().get("/api/v1/sellers/S-1/health").status_code == 401


@time_machine.travel(TODAY, tick=False)
def test_explanations_name_the_orders_and_add_up(ledger: None, cast: dict[str, Any]) -> None:
    alice = client_for(cast["alice"])
    explained = alice.get("/api/v1/sellers/S-1/health/explain?metric=late_shipment_rate").json()
    assert explained["numerator"] == explained["counted_against"] == 1
    [order] = explained["orders"]
    assert order["order"] == "111-LATE"
    assert [d["kind"] for d in order["defects"]] == ["late_shipment"]
    assert order["leaves_window_on"] == "2026-11-09"
    changes = alice.get(
        "/api/v1/sellers/S-1/health/changes?metric=late_shipment_rate&from=2026-10-10&to=2026-10-11"
    ).json()
    assert [(e["order"], e["reason"]) for e in changes["entered"]] == [
        ("111-LATE", "defect opened: late shipment")
    ]
    assert changes["left"] == []
    outlook = alice.get("/api/v1/sellers/S-1/health/outlook?metric=order_defect_rate").json()
    assert len(outlook["projection"]) == 30
    assert outlook["defects"][0]["leaves_window_on"] == "2026-11-23"  # 09-10 + 14 + 60
    assert outlook["projection"][-1]["date"] == "2026-11-19"


def test_openapi_documents_the_health_endpoints(db: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    for route in (
        "/api/v1/sellers/{seller}/health",
        "/api/v1/sellers/{seller}/health/history",
        "/api/v1/sellers/{seller}/health/explain",
        "/api/v1/sellers/{seller}/health/changes",
        "/api/v1/sellers/{seller}/health/outlook",
        "/api/v1/defects",
    ):
        responses = schema["paths"][route]["get"]["responses"]
        assert {"200", "401", "404"} <= set(responses), (route, responses.keys())
    history = schema["paths"]["/api/v1/sellers/{seller}/health/history"]["get"]
    assert {p["name"] for p in history["parameters"]} >= {"marketplace", "metric", "from", "to"}


@time_machine.travel(TODAY, tick=False)
def test_defect_list_shows_own_defects_only(ledger: None, cast: dict[str, Any]) -> None:
    mine = client_for(cast["alice"]).get("/api/v1/defects?seller=S-1").json()
    kinds = sorted(d["kind"] for d in mine["items"])
    # deliver_by (10-08) passed with no delivery on all five orders.
    assert kinds == [
        "invalid_tracking",
        *["late_delivery"] * 5,
        "late_shipment",
        "negative_feedback",
    ]
    assert all(d["appealable_until"] for d in mine["items"])
    theirs = client_for(cast["carol"]).get("/api/v1/defects").json()["items"]
    assert {d["seller"] for d in theirs} == {"S-2"}
    assert client_for(cast["carol"]).get("/api/v1/defects?seller=S-1").status_code == 404
    bad = client_for(cast["alice"]).get("/api/v1/defects?kind=rude&status=gone")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"kind", "status"}


@time_machine.travel(TODAY, tick=False)
def test_marketplace_must_be_named_when_the_seller_sells_in_two(
    ledger: None, cast: dict[str, Any], make_event: Any
) -> None:
    from defectdesk.ledger.models import Marketplace

    Marketplace.objects.create(code="SG", timezone="Asia/Singapore", currency="SGD")
    alice = client_for(cast["alice"])
    carol = client_for(cast["carol"])
    assert carol.get("/api/v1/sellers/S-2/health").json()["marketplace"] == "US"
    ingest(
        make_event(
            order="SG-1",
            marketplace="SG",
            at="2026-10-01T00:00:00Z",
            total={"amount": "5.00", "currency": "SGD"},
        )
    )
    ambiguous = alice.get("/api/v1/sellers/S-1/health")
    assert ambiguous.status_code == 422
    assert ambiguous.json()["errors"] == [
        {"field": "marketplace", "message": "is required here; one of: US, SG"}
    ]
    sg = alice.get("/api/v1/sellers/S-1/health?marketplace=SG").json()
    assert sg["metrics"]["refund_rate"]["denominator"] == 1
