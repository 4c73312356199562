"""The order list: search, filters, sort, pagination, a safe CSV export, and bounded queries."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from defectdesk.appeals.actions import appeal_create, appeal_submit
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.web.csvsafe import csv_cell
from tests.test_appeal_support import client_for, frozen, ingest, media  # noqa: F401
from tests.test_web_support import EXPLANATION, shop

pytestmark = pytest.mark.usefixtures("media", "frozen")


def _refs(response: Any) -> list[str]:
    import re

    return re.findall(r'class="mono">(\d{3}-\d{7}-\d{7})</a>', response.content.decode())


def test_search_finds_orders_by_id_buyer_sku_and_tracking(cast: Any, make_event: Any) -> None:
    shop(make_event)
    alice = client_for(cast["alice"])
    assert _refs(alice.get("/orders/?q=111-0000005")) == ["111-0000005-0000005"]
    assert _refs(alice.get("/orders/?q=B-6")) == ["111-0000006-0000006"]
    assert _refs(alice.get("/orders/?q=sku-7")) == ["111-0000007-0000007"]
    assert sorted(_refs(alice.get("/orders/?q=1Z999"))) == [
        "111-0000001-0000001",
        "111-0000003-0000003",
    ]
    assert _refs(alice.get("/orders/?q=222-0000001")) == []  # carol's order stays hers


def test_problem_orders_kind_status_dates_and_fulfilment_filters(
    cast: Any, make_event: Any
) -> None:
    shop(make_event)
    alice = client_for(cast["alice"])
    problem = alice.get("/orders/?problem=1")
    # The feedback orders, and the unshipped ones whose ship-by date passed (late shipment).
    assert sorted(_refs(problem)) == sorted(
        ["111-0000001-0000001", "111-0000003-0000003"]
        + [f"111-000000{i}-000000{i}" for i in range(4, 9)]
    )
    assert "Problem orders" in problem.content.decode()
    assert sorted(_refs(alice.get("/orders/?kind=negative_feedback"))) == [
        "111-0000001-0000001",
        "111-0000003-0000003",
    ]
    assert len(_refs(alice.get("/orders/?kind=late_shipment&status=unshipped"))) == 5
    assert _refs(alice.get("/orders/?kind=chargeback")) == []
    assert len(_refs(alice.get("/orders/?status=delivered"))) == 2
    assert len(_refs(alice.get("/orders/?fulfillment=merchant"))) == 7
    assert _refs(alice.get("/orders/?fulfillment=marketplace")) == []
    ranged = _refs(alice.get("/orders/?from=2026-10-03&to=2026-10-04"))
    assert sorted(ranged) == ["111-0000005-0000005", "111-0000006-0000006"]


def test_bad_filter_values_are_named_and_ignored(cast: Any, make_event: Any) -> None:
    shop(make_event)
    alice = client_for(cast["alice"])
    response = alice.get("/orders/?from=yesterday&kind=bogus&status=lost&sort=evil&q=" + "x" * 300)
    page = response.content.decode()
    assert response.status_code == 200
    assert "is not a date; use YYYY-MM-DD" in page and "Unknown defect kind: bogus" in page
    assert "The search is too long" in page


def test_sort_orders_by_placed_time_both_ways(cast: Any, make_event: Any) -> None:
    shop(make_event)
    alice = client_for(cast["alice"])
    newest = _refs(alice.get("/orders/"))
    oldest = _refs(alice.get("/orders/?sort=placed"))
    assert newest == list(reversed(oldest)) and len(newest) == 7


def test_csv_export_of_the_current_filter_is_safe_from_formulas(cast: Any, make_event: Any) -> None:
    shop(make_event)
    ingest(
        make_event(
            order="111-0000099-0000099",
            at="2026-10-02T12:00:00Z",
            buyer='=HYPERLINK("http://x")',
            items=[{"sku": "+SUM(A1)", "title": "t", "quantity": 1, "price": "1"}],
        )
    )
    alice = client_for(cast["alice"])
    response = alice.get("/orders/export.csv?problem=1&kind=negative_feedback")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "order" and len(rows) == 3
    assert {r[0] for r in rows[1:]} == {"111-0000001-0000001", "111-0000003-0000003"}
    assert "negative_feedback" in rows[1][-1]
    everything = alice.get("/orders/export.csv?q=111-0000099")
    body = b"".join(everything.streaming_content).decode()
    row = list(csv.reader(io.StringIO(body)))[1]
    assert row[5] == '\'=HYPERLINK("http://x")' and row[6] == "'+SUM(A1)"
    for line in list(csv.reader(io.StringIO(body)))[1:]:
        for cell in line:
            assert not cell or cell[0] not in "=+-@\t\r", cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM", "'@SUM"),
        ("\tx", "'\tx"),
        ("\x01x", "'\x01x"),
        ("plain", "plain"),
        (None, ""),
        ("19.99", "19.99"),
    ],
)
def test_csv_cells_that_could_be_formulas_are_escaped(value: Any, expected: str) -> None:
    assert csv_cell(value) == expected


def _placed(make_event: Any, start: int, count: int) -> None:
    events = [
        make_event(
            order=f"333-{i:07d}-0000000",
            at=f"2026-09-{1 + i % 28:02d}T12:00:00Z",
            event_id=f"bulk-{i}",
        )
        for i in range(start, start + count)
    ]
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert result.rejected == []


def test_a_500_page_order_list_is_paginated(cast: Any, make_event: Any) -> None:
    _placed(make_event, 0, 25_000)
    alice = client_for(cast["alice"])
    first = alice.get("/orders/")
    body = first.content.decode()
    # A list this long is counted up to 10,000 (a LIMITed count, not a full scan).
    assert "More than 10,000 orders" in body and "Page 1 of 200+" in body
    assert len(_refs(first)) == 50
    last = alice.get("/orders/?page=200")
    assert "Page 200 of 200+" in last.content.decode() and len(_refs(last)) == 50
    beyond = alice.get("/orders/?page=9999")
    assert beyond.status_code == 200 and "Page 200 of 200+" in beyond.content.decode()
    # Narrowing the filters reaches any order, however old.
    oldest = alice.get("/orders/?sort=placed")
    assert int(_refs(oldest)[0][4:11]) % 28 == 0  # placed on the first day


# Account health explains and projects each of the seven metrics: a few queries each.
HEALTH_MAX = 120  # seven metrics explained and projected, and today's pending changes
PAGES = [
    "/",
    "/orders/",
    "/orders/?problem=1",
    "/orders/?q=B-1",
    "/appeals/",
    "/notifications/",
    "/messages/",
    "/settings/users/",
    "/settings/tokens/",
]


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def test_page_queries_do_not_grow_with_the_data(
    cast: Any, make_event: Any, django_assert_max_num_queries: Any
) -> None:
    defects = shop(make_event)
    alice = client_for(cast["alice"])
    order = defects["feedback"].order
    appeal = appeal_create(
        actor=cast["alice"], defect=defects["feedback"], reason="other", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    urls = [
        *PAGES,
        f"/orders/US/{order.order_ref}/",
        f"/appeals/{appeal.pk}/",
        f"/defects/{defects['other'].pk}/appeal/",
    ]
    before = {url: _queries(alice, url) for url in urls}
    _placed(make_event, 0, 300)
    for n in range(20, 40):
        from tests.test_appeal_support import negative_feedback

        negative_feedback(make_event, order=f"111-00000{n}-00000{n}")
    after = {url: _queries(alice, url) for url in urls}
    # Account health explains each metric that moved: bounded by the metrics, not the data.
    assert after["/"] <= HEALTH_MAX, (before["/"], after["/"])
    assert {u: n for u, n in after.items() if u != "/"} == {
        u: n for u, n in before.items() if u != "/"
    }
    for url in urls:
        with django_assert_max_num_queries(HEALTH_MAX if url == "/" else 20):
            alice.get(url)


def test_a_defect_dated_in_the_future_does_not_count_yet(cast: Any, make_event: Any) -> None:
    from defectdesk.defects.models import Defect

    ref = "111-0000077-0000077"
    ingest(
        make_event(
            order=ref,
            at="2026-10-11T12:00:00Z",
            ship_by="2026-10-14T23:59:59-07:00",
            deliver_by="2026-10-20T23:59:59-07:00",
        )
    )
    upcoming = Defect.objects.filter(order__order_ref=ref, status="active")
    alice = client_for(cast["alice"])
    assert ref not in _refs(alice.get("/orders/?problem=1"))
    page = alice.get(f"/orders/US/{ref}/").content.decode()
    # The projection already holds the late shipment that ship-by will bring, dated then.
    assert upcoming.filter(kind="late_shipment").exists()
    assert "Not yet counted" in page and "/appeal/" not in page
