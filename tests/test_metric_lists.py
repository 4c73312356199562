"""A number is its list: every numerator, denominator, miss count, ODR component and channel of
account health has the list of exactly those orders (messages), in the web and in the API."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from defectdesk.accounts.actions import user_create
from defectdesk.accounts.models import Seller
from defectdesk.core.actors import SYSTEM
from defectdesk.ledger.generator import generate_events
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.explain import explain_day
from defectdesk.metrics.health import scope_for, seller_health
from defectdesk.metrics.lists import list_spec, listed
from defectdesk.policy.profile import METRICS
from defectdesk.web.charts import ChartPoint, chart_svg
from tests.test_appeal_support import frozen, media  # noqa: F401 - fixtures

NOW = datetime(2026, 10, 20, 18, 0, tzinfo=UTC)  # 11:00 in Los Angeles, 02:00 next day in Shanghai
SELLERS = ("S-1001", "S-1002")
MARKETS = {"US": ("America/Los_Angeles", "USD"), "CN": ("Asia/Shanghai", "CNY")}
# The last generated day of each marketplace is over before NOW.
ENDS = {"US": date(2026, 10, 19), "CN": date(2026, 10, 20)}
HIGHER = ("valid_tracking_rate", "on_time_delivery_rate", "contact_response_rate")


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def two_markets(db: Any, clock: Any) -> dict[str, Any]:
    """Two sellers selling in US and CN (opposite sides of UTC), 100 days of orders each."""
    for code, (tz, currency) in MARKETS.items():
        Marketplace.objects.create(code=code, name=code, timezone=tz, currency=currency)
    events: list[dict[str, Any]] = []
    for n, code in enumerate(MARKETS):
        events += generate_events(
            orders=260,
            sellers=len(SELLERS),
            days=100,
            seed=31 + n,
            end=ENDS[code],
            marketplace=code,
            timezone=MARKETS[code][0],
            currency=MARKETS[code][1],
            id_prefix=f"{code}-",
        )
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert not result.rejected, result.rejected[:3]
    assert set(Seller.objects.values_list("external_id", flat=True)) >= set(SELLERS)
    rita = user_create(actor=SYSTEM, username="rita", password="correct-horse-1", reviewer=True)
    owner = user_create(
        actor=SYSTEM, username="ann", password="correct-horse-1", seller="S-1001", role="owner"
    )
    return {"rita": _client(rita), "owner": _client(owner)}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _lists(metric: str, item: dict[str, Any]) -> list[tuple[dict[str, str], int]]:
    """Every list of a metric with the number of the health JSON it must add up to."""
    out = [
        ({"part": "numerator"}, item["numerator"]),
        ({"part": "denominator"}, item["denominator"]),
    ]
    if metric in HIGHER:
        out.append(({"part": "misses"}, item["denominator"] - item["numerator"]))
    for kind, n in item.get("components", {}).items():
        out.append(({"part": "numerator", "component": kind}, n))
    for channel, part in item.get("by_fulfillment", {}).items():
        out.append(({"part": "numerator", "channel": channel}, part["numerator"]))
        out.append(({"part": "denominator", "channel": channel}, part["denominator"]))
    return out


def _web_count(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    assert 'role="alert"' not in page, (url, re.findall(r'role="alert">([^<]*)', page))
    match = re.search(r'data-count="(\d+)"', page)
    assert match, url
    return int(match.group(1))


def test_every_list_counts_its_number_in_both_marketplaces(two_markets: dict[str, Any]) -> None:
    rita = two_markets["rita"]
    checked = nonzero = 0
    for seller in SELLERS:
        for code in MARKETS:
            health = rita.get(f"/api/v1/sellers/{seller}/health", {"marketplace": code}).json()
            today = date.fromisoformat(health["as_of"])
            for day in (
                today,
                today - timedelta(days=1),
                today - timedelta(days=9),
                today - timedelta(days=33),
            ):
                health = rita.get(
                    f"/api/v1/sellers/{seller}/health",
                    {"marketplace": code, "as_of": day.isoformat()},
                ).json()
                for metric in METRICS:
                    for params, number in _lists(metric, health["metrics"][metric]):
                        query = {"marketplace": code, "as_of": day.isoformat(), **params}
                        api = rita.get(
                            f"/api/v1/sellers/{seller}/health/{metric}/orders",
                            {**query, "page_size": 200},
                        )
                        assert api.status_code == 200, api.content
                        body = api.json()
                        assert body["count"] == number == body["number"], (
                            seller,
                            code,
                            day,
                            metric,
                            params,
                        )
                        assert len(body["items"]) == min(number, 200)
                        web = _web_count(
                            rita,
                            f"/health/{metric}/?seller={seller}&"
                            + "&".join(f"{k}={v}" for k, v in query.items()),
                        )
                        assert web == number, (seller, code, day, metric, params)
                        checked += 1
                        nonzero += number > 0
    assert checked > 300 and nonzero > 150


def test_the_lists_name_the_orders_explain_counts(two_markets: dict[str, Any]) -> None:
    """What counts against the seller is the same set of orders as the explanation's."""
    seller = Seller.objects.get(external_id="S-1001")
    for code in MARKETS:
        scope = scope_for(seller, code)
        for day in (scope.today, scope.today - timedelta(days=12)):
            for metric in METRICS:
                spec = list_spec(scope, metric)
                mine = sorted((i.order_ref, i.message_id) for i in listed(scope, spec, day))
                theirs = sorted(
                    (o["order"], o.get("message", ""))
                    for o in explain_day(scope, metric, day)["orders"]
                )
                assert mine == theirs, (code, metric, day)


def test_rows_carry_the_defect_its_deadline_and_an_appeal_button(
    two_markets: dict[str, Any],
) -> None:
    owner = two_markets["owner"]
    seller = Seller.objects.get(external_id="S-1001")
    scope = scope_for(seller, "US")
    health = seller_health(scope, scope.today)
    metric = next(
        m
        for m in ("order_defect_rate", "refund_rate", "late_shipment_rate")
        if health["metrics"][m]["numerator"]
    )
    body = owner.get(f"/api/v1/sellers/S-1001/health/{metric}/orders", {"marketplace": "US"}).json()
    defects = [d for item in body["items"] for d in item["defects"] if d["counted"]]
    assert defects and all(d["appealable_until"] for d in defects if d["status"] == "active")
    page = owner.get(f"/health/{metric}/?marketplace=US").content.decode()
    appealable = [d for d in defects if d["can_appeal"]]
    if appealable:
        assert f'href="/defects/{appealable[0]["id"]}/appeal/"' in page
    assert "Appealable until" in page


def test_appealable_defects_soonest_first_in_web_and_api(two_markets: dict[str, Any]) -> None:
    owner = two_markets["owner"]
    body = owner.get(
        "/api/v1/sellers/S-1001/appealable-defects", {"marketplace": "US", "page_size": 200}
    ).json()
    deadlines = [i["appealable_until"] for i in body["items"]]
    assert body["count"] == len(deadlines) > 0
    assert deadlines == sorted(deadlines)
    assert all(datetime.fromisoformat(d) >= NOW for d in deadlines)
    page = owner.get("/health/appealable/?marketplace=US").content.decode()
    assert f'data-count="{body["count"]}"' in page
    first = body["items"][0]
    if first["can_appeal"]:
        assert f'href="/defects/{first["id"]}/appeal/"' in page
    read_only = (
        two_markets["rita"]
        .get("/api/v1/sellers/S-1001/appealable-defects", {"marketplace": "US"})
        .json()
    )
    assert read_only["count"] == body["count"]
    assert not any(i["can_appeal"] for i in read_only["items"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("as_of=2099-01-01", "is in the future"),
        ("as_of=yesterday", "is not a date"),
        ("as_of=2026-13-40", "is not a date"),
        ("as_of=2020-01-01", "before this seller&#x27;s first order"),
        ("part=everything", "must be one of numerator, denominator, misses"),
        ("component=chargeback&part=denominator", "use part=numerator"),
        ("channel=drone", "must be one of merchant, marketplace"),
        ("page=99999999999999999999", ""),
        ("page=-3", ""),
    ],
)
def test_bad_input_on_the_page_is_a_message_not_an_error(
    two_markets: dict[str, Any], query: str, message: str
) -> None:
    # A page number past any list's end is first cut to the largest one (core.middleware).
    response = two_markets["owner"].get(
        f"/health/order_defect_rate/?marketplace=US&{query}", follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'data-count="' in page


def test_unknown_metric_and_misses_of_a_lower_metric_are_explained(
    two_markets: dict[str, Any],
) -> None:
    owner = two_markets["owner"]
    response = owner.get("/health/not_a_metric/?marketplace=US")
    assert response.status_code == 200
    assert "There is no metric" in response.content.decode()
    page = owner.get("/health/refund_rate/?marketplace=US&part=misses").content.decode()
    assert "misses are listed for metrics where higher is better" in page


@pytest.mark.parametrize(
    ("path", "query", "status", "field"),
    [
        ("order_defect_rate", {"as_of": "2099-01-01"}, 422, "as_of"),
        ("order_defect_rate", {"as_of": "01/10/2026"}, 422, "as_of"),
        ("order_defect_rate", {"as_of": "2020-01-01"}, 422, "as_of"),
        ("not_a_metric", {}, 422, "metric"),
        ("order_defect_rate", {"part": "everything"}, 422, "part"),
        ("refund_rate", {"part": "misses"}, 422, "part"),
        ("refund_rate", {"channel": "merchant"}, 422, "channel"),
        ("order_defect_rate", {"component": "refund"}, 422, "component"),
        ("order_defect_rate", {"page": "0"}, 422, "page"),
        ("order_defect_rate", {"page": "9" * 30}, 422, "page"),
        ("order_defect_rate", {"page_size": "5000"}, 422, "page_size"),
    ],
)
def test_bad_input_in_the_api_has_the_error_shape(
    two_markets: dict[str, Any], path: str, query: dict[str, str], status: int, field: str
) -> None:
    response = two_markets["owner"].get(
        f"/api/v1/sellers/S-1001/health/{path}/orders", {"marketplace": "US", **query}
    )
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"] and [e["field"] for e in body["errors"]] == [field]


def test_a_page_past_the_end_is_empty_not_an_error(two_markets: dict[str, Any]) -> None:
    response = two_markets["owner"].get(
        "/api/v1/sellers/S-1001/health/order_defect_rate/orders",
        {"marketplace": "US", "part": "denominator", "page": "999999"},
    )
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["count"] > 0


def test_the_health_cards_link_every_number_to_its_list(two_markets: dict[str, Any]) -> None:
    owner = two_markets["owner"]
    page = owner.get("/?marketplace=CN").content.decode()
    links = set(re.findall(r'href="(/health/[a-z_]+/\?[^"]+)"', page))
    for metric in METRICS:
        assert any(f"/health/{metric}/?part=numerator" in link for link in links), metric
        assert any(f"/health/{metric}/?part=denominator" in link for link in links), metric
    assert any("component=a_to_z_claim" in link for link in links)
    assert any("channel=marketplace" in link for link in links)
    assert all("marketplace=CN" in link for link in links)
    for link in sorted(links)[:6]:
        assert owner.get(link.replace("&amp;", "&")).status_code == 200


def test_the_openapi_documents_the_lists(db: Any) -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    lists = spec["paths"]["/api/v1/sellers/{seller}/health/{metric}/orders"]["get"]
    assert {"200", "400", "404", "422"} <= set(lists["responses"])
    assert "$ref" in str(lists["responses"]["200"])
    names = {p["name"] for p in lists["parameters"]}
    assert {"marketplace", "as_of", "part", "component", "channel", "page", "page_size"} <= names
    assert "/api/v1/sellers/{seller}/appealable-defects" in spec["paths"]


def test_the_chart_has_axes_a_target_and_a_marker_a_day() -> None:
    days = [date(2026, 10, 1) + timedelta(days=i) for i in range(30)]
    points = [
        ChartPoint(d, None if i == 4 else 0.01 * (i % 3), i % 3, 100) for i, d in enumerate(days)
    ]
    svg = chart_svg(points, target=0.01, condition="lt", label="ODR <b>")
    assert svg.count("<circle") == 30
    assert "<title>2026-10-02: 1% (1 / 100)</title>" in svg
    assert "<title>2026-10-05: no orders</title>" in svg
    assert "2026-10-01</text>" in svg and "2026-10-30</text>" in svg
    assert "target &lt; 1%" in svg and "&lt;b&gt;" in svg and "<b>" not in svg
    assert "<script" not in svg and "onmouse" not in svg


@pytest.mark.usefixtures("media", "frozen")
def test_the_console_seller_panel_links_every_number_to_its_list(
    cast: dict[str, Any], make_event: Any
) -> None:
    from defectdesk.appeals.actions import appeal_create, appeal_submit
    from tests.test_appeal_support import EXPLANATION, client_for, negative_feedback

    defect = negative_feedback(make_event, order="111-0000001-0000001")
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="product_review_only", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    rita = client_for(cast["rita"])
    page = rita.get(f"/review/appeals/{appeal.pk}/").content.decode()
    links = re.findall(r'href="(/health/[a-z_]+/\?[^"]+)">(\d+)</a>', page)
    assert len(links) == 2 * len(METRICS) and any(n != "0" for _, n in links), links
    for link, n in links:
        url = link.replace("&amp;", "&")
        assert "seller=S-1" in url and "marketplace=US" in url
        assert _web_count(rita, url) == int(n)


def test_facts_from_the_projection_rows_are_the_folded_facts(two_markets: dict[str, Any]) -> None:
    """The lists read orders and defects from their rows; those give what the fold gives."""
    from defectdesk.defects.models import Defect
    from defectdesk.defects.projection import appeal_cuts, facts_with_appeals
    from defectdesk.defects.rules import defect_facts
    from defectdesk.ledger.fold import fold_order
    from defectdesk.ledger.ingest import load_order_events
    from defectdesk.ledger.models import Order
    from defectdesk.metrics.core import order_facts
    from defectdesk.metrics.lists import DEFECT_FIELDS, ORDER_FIELDS, defect_fact_of, order_facts_of
    from defectdesk.policy.selectors import policy_for

    for market in Marketplace.objects.all():
        rows = {
            r["order_ref"]: r
            for r in Order.objects.filter(marketplace=market).values(*ORDER_FIELDS)
        }
        defects: dict[int, list[Any]] = {}
        for d in Defect.objects.filter(marketplace=market).values(*DEFECT_FIELDS):
            defects.setdefault(d["order_id"], []).append(defect_fact_of(d))
        events = load_order_events({(market.id, ref) for ref in rows})
        cuts = appeal_cuts([r["id"] for r in rows.values()])
        policy = policy_for(market.id)
        assert len(events) == len(rows) > 100
        for (_, ref), evs in events.items():
            state = fold_order(market.code, ref, evs)
            row = rows[ref]
            assert order_facts_of(row) == order_facts(state), ref
            folded = facts_with_appeals(row["id"], defect_facts(state, policy), cuts)
            key = lambda f: (f.kind, f.source_key)  # noqa: E731
            assert [(f.kind, f.source_key, f.intervals) for f in sorted(folded, key=key)] == [
                (f.kind, f.source_key, f.intervals)
                for f in sorted(defects.get(row["id"], []), key=key)
            ], ref
