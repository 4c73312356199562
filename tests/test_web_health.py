"""Account health: cards with their numbers linked to the orders behind them, kept current."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from defectdesk.appeals.actions import appeal_create, appeal_decide, appeal_submit
from defectdesk.web.charts import TrendPoint, trend_svg
from tests.test_appeal_support import client_for, ingest, media  # noqa: F401
from tests.test_web_support import EXPLANATION

pytestmark = pytest.mark.usefixtures("media")
NOW = datetime(2026, 10, 20, 16, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def _ten_orders_two_bad(make_event: Any) -> list[str]:
    refs = [f"111-30000{i:02d}-0000000" for i in range(10)]
    for i, ref in enumerate(refs):
        ingest(make_event(order=ref, at=f"2026-09-{i + 5:02d}T12:00:00Z"))
    for ref in refs[:2]:
        ingest(
            make_event(
                "feedback.posted",
                order=ref,
                at="2026-10-10T09:00:00Z",
                feedback_id=f"FB-{ref}",
                rating=1,
            )
        )
    return refs


def _odr(page: str) -> str:
    match = re.search(r'aria-label="Order Defect Rate ([^ ]+): see the orders', page)
    assert match, "no ODR card"
    return match.group(1)


@pytest.mark.usefixtures("clock")
def test_cards_show_rate_target_counts_and_link_the_orders_behind_them(
    cast: Any, make_event: Any
) -> None:
    refs = _ten_orders_two_bad(make_event)
    alice = client_for(cast["alice"])
    page = alice.get("/").content.decode()
    assert _odr(page) == "20.00%"
    assert "Your account is at risk" in page and "target &lt; 1.0%" in page
    for name in (
        "Pre-fulfilment cancel rate",
        "Late shipment rate",
        "Valid tracking rate",
        "On-time delivery rate",
        "Refund rate",
        "Contact response rate",
    ):
        assert name in page
    assert page.count("<svg") == 7 and 'role="img"' in page
    link = re.search(r'href="(/health/order_defect_rate/\?part=numerator[^"]*)">2</a>', page)
    assert link, "the numerator links to its orders"
    behind = alice.get(link.group(1).replace("&amp;", "&")).content.decode()
    row = r'<td data-label="Order"><a class="mono" href="[^"]+">(111-[\d-]+)</a>'
    listed = re.findall(row, behind)
    assert sorted(listed) == sorted(refs[:2])
    assert "Roll-off calendar" in page and "What changed since last week" in page
    assert refs[0] in page  # the new defect is named under what changed


@pytest.mark.usefixtures("clock")
def test_an_approved_appeal_changes_the_page_at_once(cast: Any, make_event: Any) -> None:
    _ten_orders_two_bad(make_event)
    alice = client_for(cast["alice"])
    assert _odr(alice.get("/").content.decode()) == "20.00%"  # now cached
    from defectdesk.defects.models import Defect

    defect = Defect.objects.filter(kind="negative_feedback").order_by("id").first()
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
    )
    appeal_submit(actor=cast["alice"], appeal=appeal)
    appeal_decide(actor=cast["rita"], appeal=appeal, decision="approve", note="Agreed.")
    assert _odr(alice.get("/").content.decode()) == "10.00%"


@pytest.mark.usefixtures("clock")
def test_a_day_in_the_future_or_nonsense_is_refused_plainly(cast: Any, make_event: Any) -> None:
    _ten_orders_two_bad(make_event)
    alice = client_for(cast["alice"])
    future = alice.get("/?as_of=2027-01-01").content.decode()
    assert "is after today" in future and _odr(future) == "20.00%"
    nonsense = alice.get("/?as_of=soon").content.decode()
    assert "must be a date as YYYY-MM-DD" in nonsense
    earlier = alice.get("/?as_of=2026-10-01").content.decode()
    assert _odr(earlier) == "0.00%"
    assert alice.get("/?marketplace=XX").status_code == 404
    before = alice.get("/?as_of=2020-01-01")
    assert before.status_code == 200
    page = before.content.decode()
    assert "first order in US (2026-09-05)" in page and _odr(page) == "20.00%"


def test_trend_chart_is_escaped_and_describes_itself() -> None:
    svg = trend_svg(
        [TrendPoint(datetime(2026, 10, d).date(), r) for d, r in ((1, None), (2, 0.02), (3, 0.01))],
        target=0.01,
        condition="lt",
        label='<b>"ODR"</b>',
        status="bad",
    )
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert "from 2026-10-01 to 2026-10-03: 2% to 1%; target &lt; 1%" in svg
    empty = trend_svg([], target=0.9, condition="gt", label="CRR")
    assert "no orders in the window" in empty


@pytest.mark.usefixtures("clock")
def test_a_late_event_with_an_old_time_still_refreshes_the_page(cast: Any, make_event: Any) -> None:
    refs = _ten_orders_two_bad(make_event)
    alice = client_for(cast["alice"])
    vtr = r'aria-label="Valid tracking rate ([^ ]+): see the orders'
    assert re.search(vtr, alice.get("/").content.decode()).group(1) == "—"  # type: ignore[union-attr]
    ingest(
        make_event(
            "order.shipped",
            order=refs[6],
            at="2026-09-12T10:00:00Z",
            carrier="UPS",
            tracking_number="1Z1",
        ),
        make_event("shipment.scanned", order=refs[6], at="2026-09-12T18:00:00Z", status="accepted"),
    )
    page = alice.get("/").content.decode()
    assert re.search(vtr, page).group(1) == "100.00%"  # type: ignore[union-attr]
