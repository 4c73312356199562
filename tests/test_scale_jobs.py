"""The jobs over every seller read in a fixed number of queries, whatever the seller count."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from defectdesk.accounts.models import Seller
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Marketplace
from defectdesk.messaging.selectors import at_risk_orders, at_risk_scan
from defectdesk.metrics.models import AccountStatusDay
from defectdesk.metrics.status import account_status_record, last_statuses
from defectdesk.notify.models import OutboxMessage

NOW = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)


def ingest(*events: dict[str, Any]) -> None:
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert not result.rejected, result.rejected


def small_sellers(make_event: Any, count: int, first: int = 10) -> None:
    """Sellers with one order each: unshipped and due to ship within a day of NOW."""
    ingest(
        *(
            make_event(order=f"o-small-{n}", seller=f"S-{n}", at="2026-10-01T12:00:00Z")
            for n in range(first, first + count)
        )
    )


def test_the_at_risk_scan_finds_what_each_seller_sees(
    cast: Any, make_event: Any, django_assert_max_num_queries: Any
) -> None:
    small_sellers(make_event, 3)
    ingest(
        make_event(order="o-scan", seller="S-1", at="2026-10-01T12:00:00Z"),
        make_event(
            "order.shipped", order="o-scan", at="2026-10-01T18:00:00Z", tracking_number="1Z"
        ),
        make_event(order="o-done", seller="S-2", at="2026-09-01T12:00:00Z"),
        make_event(
            "order.cancelled",
            order="o-done",
            seller="S-2",
            at="2026-09-01T13:00:00Z",
            requested_by="buyer",
            reason="changed_mind",
        ),
    )
    with django_assert_max_num_queries(12):
        found = at_risk_scan(NOW)
    assert {Seller.objects.get(pk=s).external_id for s in found} == {"S-1", "S-10", "S-11", "S-12"}
    for seller in Seller.objects.all():
        mine = [r.order.pk for r in at_risk_orders(seller, NOW)]
        assert [r.order.pk for r in found.get(seller.pk, [])] == mine
    us = Marketplace.objects.get(code="US")
    assert at_risk_scan(NOW, marketplace_id=us.id).keys() == found.keys()
    assert at_risk_scan(NOW, marketplace_id=us.id + 999) == {}


def test_the_at_risk_scan_costs_the_same_queries_for_ten_times_the_sellers(
    cast: Any, make_event: Any, django_assert_max_num_queries: Any
) -> None:
    small_sellers(make_event, 40)
    with django_assert_max_num_queries(12):
        assert len(at_risk_scan(NOW)) == 40


def test_the_status_job_reads_the_last_status_however_long_ago_and_in_fixed_queries(
    cast: Any, make_event: Any, django_assert_max_num_queries: Any
) -> None:
    ingest(
        make_event(order="o-1", seller="S-1", at="2026-09-01T18:00:00Z"),
        make_event(
            "refund.issued", order="o-1", seller="S-1", at="2026-09-05T18:00:00Z", amount="1.00"
        ),
    )
    small_sellers(make_event, 30)
    s1 = Seller.objects.get(external_id="S-1")
    us = Marketplace.objects.get(code="US")
    # S-1 was last recorded at risk weeks ago; nothing was recorded for it since.
    AccountStatusDay.objects.create(
        seller=s1,
        marketplace=us,
        day=date(2026, 9, 6),
        status="at_risk",
        failing=["refund_rate"],
        recorded_at=NOW,
    )
    AccountStatusDay.objects.create(
        seller=s1, marketplace=us, day=date(2026, 9, 1), status="healthy", recorded_at=NOW
    )
    assert last_statuses(us, date(2026, 9, 30), [s1.pk]) == {s1.pk: "at_risk"}
    assert last_statuses(us, date(2026, 9, 3), [s1.pk]) == {s1.pk: "healthy"}
    assert last_statuses(us, date(2026, 8, 30), [s1.pk]) == {}
    with django_assert_max_num_queries(20):
        result = account_status_record(date(2026, 10, 20))
    assert result["recorded"] == 31
    # The refund left the window: S-1 is healthy again, and told so once.
    assert AccountStatusDay.objects.get(seller=s1, day=date(2026, 10, 20)).status == "healthy"
    sent = OutboxMessage.objects.filter(object_type="account_status")
    assert {m.user_id for m in sent} == {cast["alice"].pk, cast["bob"].pk}
    assert {m.subject for m in sent} == {"Your account is healthy again in US"}
    assert {m.object_id for m in sent} == {"S-1"}
    assert account_status_record(date(2026, 10, 20))["changed"] == 0
