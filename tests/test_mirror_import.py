"""Amazon's documents into a mirror account: every sample file, twice, overlapping windows,
the encodings and line ends Amazon and spreadsheets write, and what must be refused."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from defectdesk.core.errors import ValidationFailed
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Event, Marketplace, Order
from defectdesk.mirror.models import HealthSnapshot, RawDocument
from tests.mirror_support import (
    SAMPLE_TYPES,
    SAMPLES,
    account_for,
    feedback_tsv,
    finances_json,
    load,
    orders_tsv,
)


def test_the_samples_folder_is_there() -> None:
    assert SAMPLES.is_dir(), f"{SAMPLES} is missing: the mirror tests read the shared samples"
    assert sorted(p.name for p in SAMPLES.iterdir() if p.name != "PROVENANCE.md") == sorted(
        SAMPLE_TYPES
    )


def test_an_amazon_marketplace_is_external_in_its_zone_and_currency(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    market = Marketplace.objects.get(code="AMZ-US")
    assert (market.external, market.decided_by) == (True, "amazon.com")
    assert (market.timezone, market.currency) == ("America/Los_Angeles", "USD")
    assert account.amazon_marketplace_id == "ATVPDKIKX0DER"
    event = AuditEvent.objects.get(action="mirror.account_create")
    assert event.seller_id == account.seller_id and event.actor_label == "alice"
    # Adding it again changes nothing.
    assert account_for(cast["alice"]).pk == account.pk
    assert AuditEvent.objects.filter(action="mirror.account_create").count() == 1


def test_every_sample_file_imports_or_is_not_applicable_and_twice_is_a_no_op(
    cast: dict[str, Any], capsys: Any
) -> None:
    account = account_for(cast["alice"])
    lines = []
    for name, report_type in sorted(SAMPLE_TYPES.items()):
        content = (SAMPLES / name).read_bytes()
        first = load(account, report_type, content)
        events_after_first = Event.objects.count()
        second = load(account, report_type, content)
        assert second.already_imported
        assert Event.objects.count() == events_after_first, name
        summary = first.lines()
        assert summary, name
        if first.not_applicable:
            assert first.document.status == RawDocument.Status.NOT_APPLICABLE
        lines.append(
            f"{name}: {first.document.status}, {first.created} created, "
            f"{len(first.rejected)} refused, skipped {sum(first.skipped.values())}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert RawDocument.objects.count() == len(SAMPLE_TYPES)
    # The 15 real all-orders rows: cancelled, merchant-fulfilled, buyer and deadlines unknown.
    orders = Order.objects.filter(marketplace__code="AMZ-US")
    assert orders.count() == 14 or orders.count() == 15
    assert set(orders.values_list("status", flat=True)) == {"cancelled"}
    assert set(orders.values_list("fulfillment", flat=True)) == {"merchant"}
    assert orders.filter(buyer__isnull=False).count() == 0
    assert orders.filter(ship_by__isnull=False).count() == 0
    assert HealthSnapshot.objects.count() == 1
    na = RawDocument.objects.filter(status=RawDocument.Status.NOT_APPLICABLE)
    assert set(na.values_list("report_type", flat=True)) == {
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL",
        "ORDER_CHANGE_NOTIFICATION",
    }
    # The sandbox finances page's order id is not Amazon's shape: refused, saying so.
    sandbox = RawDocument.objects.get(
        filename="",
        sha256=RawDocument.objects.filter(report_type="LIST_FINANCIAL_EVENTS")
        .order_by("-size")
        .first()
        .sha256,
    )
    assert "not an Amazon order id" in str(sandbox.summary["rejected"])


def test_an_overlapping_window_creates_no_duplicates(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    first = orders_tsv(
        [
            ("111-0000001-0000001", "2026-10-01T10:00:00-07:00", "Shipped", "Merchant"),
            ("111-0000001-0000002", "2026-10-02T10:00:00-07:00", "Cancelled", "MFN"),
        ]
    )
    later = orders_tsv(
        [
            ("111-0000001-0000002", "2026-10-02T10:00:00-07:00", "Canceled", "MFN"),
            ("111-0000001-0000003", "2026-10-03T10:00:00-07:00", "Shipped", "AFN"),
        ],
        crlf=True,
    )
    a = load(account, "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", first)
    b = load(account, "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", later)
    assert (a.created, b.created, b.duplicates) == (3, 1, 2)
    assert Order.objects.count() == 3
    assert Order.objects.get(order_ref="111-0000001-0000003").fulfillment == "marketplace"
    assert Order.objects.get(order_ref="111-0000001-0000002").status == "cancelled"
    assert Order.objects.get(order_ref="111-0000001-0000002").cancelled_by is None


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932", "iso-8859-1"])
def test_encodings_bom_and_reordered_columns(cast: dict[str, Any], encoding: str) -> None:
    site = "amazon.co.jp" if encoding == "cp932" else "amazon.com"
    account = account_for(cast["alice"], site=site)
    title = "マグカップ" if encoding == "cp932" else "Tasse à café"
    channel = "Amazon.co.jp" if encoding == "cp932" else "Amazon.com"
    currency = "JPY" if encoding == "cp932" else "USD"
    text = (
        "item-price\tsales-channel\tproduct-name\tfulfillment-channel\torder-status\t"
        "purchase-date\tamazon-order-id\textra-column\r\n"
        f"1200\t{channel}\t{title}\tMFN\tShipped\t2026-10-01T10:00:00+09:00\t"
        "503-1234567-7654321\tx\r\n"
    )
    report = load(
        account, "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", text.encode(encoding)
    )
    assert report.rejected == [] and report.created == 1, report.lines()
    order = Order.objects.get(order_ref="503-1234567-7654321")
    assert order.items[0]["title"] == title
    assert order.currency == currency


def test_missing_column_bad_ids_and_another_marketplace_are_named(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    with pytest.raises(ValidationFailed) as exc:
        load(account, "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", b"sku\tprice\nA\t1\n")
    assert "amazon-order-id" in str(exc.value)
    content = orders_tsv(
        [
            ("ORDER-1", "2026-10-01T10:00:00-07:00", "Shipped", "Merchant"),
            ("111-0000001-0000009", "2026-10-01T10:00:00", "Shipped", "Merchant"),
            ("111-0000001-0000008", "2026-10-01T10:00:00-07:00", "Shipped", "Drone"),
        ]
    ).replace(b"Amazon.com\tSKU-1", b"Amazon.com\tSKU-1", 1)
    report = load(account, "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", content)
    messages = " | ".join(m for _, m in report.rejected)
    assert "'ORDER-1' is not an Amazon order id" in messages
    assert "not a time with a UTC offset" in messages
    assert "neither Merchant/MFN nor Amazon/AFN" in messages
    assert [line for line, _ in report.rejected] == [2, 3, 4]
    uk = orders_tsv([("111-0000001-0000007", "2026-10-01T10:00:00-07:00", "Shipped", "MFN")])
    report = load(
        account,
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        uk.replace(b"Amazon.com", b"Amazon.co.uk"),
    )
    assert "sold on Amazon.co.uk, not Amazon.com" in report.rejected[0][1]


def test_a_report_of_another_sellers_account_is_refused(cast: dict[str, Any]) -> None:
    from defectdesk.accounts.models import Seller
    from defectdesk.mirror.actions import mirror_account_create

    account = mirror_account_create(
        actor=cast["alice"],
        seller=Seller.objects.get(external_id="S-1"),
        site="amazon.com",
        selling_partner_id="A1OWNACCOUNT01",
    )
    content = (SAMPLES / "OrderChangeNotification.example.json").read_bytes()
    with pytest.raises(ValidationFailed) as exc:
        load(account, "ORDER_CHANGE_NOTIFICATION", content)
    assert "belongs to Amazon seller account A3TH9S8BH6GOGM" in str(exc.value)
    assert RawDocument.objects.count() == 0


def test_feedback_is_one_per_order_and_a_later_report_infers_removal(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    load(
        account,
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        orders_tsv(
            [
                ("111-0000001-0000001", "2026-10-01T10:00:00-07:00", "Shipped", "Merchant"),
                ("111-0000001-0000002", "2026-10-01T11:00:00-07:00", "Shipped", "Merchant"),
            ]
        ),
    )
    first = feedback_tsv(
        [
            ("10/05/26", 1, "Never arrived", "111-0000001-0000001"),
            ("10/06/26", 2, "Slow", "111-0000001-0000002"),
        ]
    )
    report = load(account, "GET_SELLER_FEEDBACK_DATA", first)
    assert report.created == 2
    stored = bytes(RawDocument.objects.get(report_type="GET_SELLER_FEEDBACK_DATA").content)
    assert b"buyer@example.com" not in stored and b"sha256:" in stored
    assert "buyer@example.com" not in str(list(Event.objects.values_list("data", flat=True)))
    assert Defect.objects.filter(kind="negative_feedback", status="active").count() == 2
    # The buyer edits a feedback: a new version, the latest rating wins.
    later = feedback_tsv([("10/06/26", 3, "Slow but arrived", "111-0000001-0000002")])
    report = load(
        account, "GET_SELLER_FEEDBACK_DATA", later, window=(date(2026, 10, 1), date(2026, 10, 31))
    )
    assert report.created == 1 and report.inferred_removals == 1
    removed = Event.objects.get(type="feedback.removed")
    assert removed.data["inferred"] is True and "Inferred" in removed.data["reason"]
    assert removed.order_ref == "111-0000001-0000001"
    assert Defect.objects.filter(kind="negative_feedback", status="active").count() == 0
    # The same later report again: nothing new.
    again = load(account, "GET_SELLER_FEEDBACK_DATA", later + b"\n")
    assert again.created == 0 and again.inferred_removals == 0


def test_finance_events_of_orders_not_yet_imported_wait_for_them(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    ref = "111-0000002-0000001"
    page = finances_json(
        refunds=[(ref, "2026-10-05T10:00:00Z")],
        claims=[(ref, "2026-10-06T10:00:00Z")],
        chargebacks=[(ref, "2026-10-07T10:00:00Z")],
    )
    report = load(account, "LIST_FINANCIAL_EVENTS", page)
    assert report.created == 5 and report.rejected == []
    assert not Order.objects.filter(order_ref=ref).exists()
    load(
        account,
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        orders_tsv([(ref, "2026-10-01T10:00:00-07:00", "Shipped", "Merchant")]),
    )
    order = Order.objects.get(order_ref=ref)
    assert order.refunded_amount == Decimal("19.99")
    kinds = set(Defect.objects.filter(order=order, status="active").values_list("kind", flat=True))
    assert kinds == {"a_to_z_claim", "chargeback", "refund"}


@pytest.mark.django_db(transaction=True)
def test_the_same_report_uploaded_twice_at_once_is_imported_once(cast: dict[str, Any]) -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer: uploads at once queue; PostgreSQL runs this in CI")
    account = account_for(cast["alice"])
    content = orders_tsv([("111-0000003-0000001", "2026-10-01T10:00:00-07:00", "Shipped", "MFN")])
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(
                load(account, "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", content)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert RawDocument.objects.count() == 1
    assert Event.objects.count() == 1


def test_read_only_staff_and_other_sellers_cannot_import(cast: dict[str, Any]) -> None:
    from defectdesk.core.errors import Forbidden, NotFound
    from defectdesk.mirror.importing import amazon_import

    account = account_for(cast["alice"])
    content = orders_tsv([("111-0000004-0000001", "2026-10-01T10:00:00-07:00", "Shipped", "MFN")])
    kind = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
    with pytest.raises(Forbidden):
        amazon_import(actor=cast["bob"], account=account, report_type=kind, content=content)
    with pytest.raises(NotFound):
        amazon_import(actor=cast["carol"], account=account, report_type=kind, content=content)
    assert RawDocument.objects.count() == 0 and Event.objects.count() == 0
    report = amazon_import(actor=cast["alice"], account=account, report_type=kind, content=content)
    assert report.created == 1
    event = AuditEvent.objects.get(action="mirror.document_import")
    assert event.actor_label == "alice" and event.seller_id == account.seller_id


def test_hostile_cells_are_refused_or_kept_as_text(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    header = (
        "amazon-order-id\tpurchase-date\torder-status\tfulfillment-channel\tsales-channel\t"
        "product-name\titem-price\n"
    )
    rows = [
        "\uff11\uff11\uff11-0000008-0000001\t2026-10-01T10:00:00Z\tShipped\tMFN\tAmazon.com\tMug\t1\n",
        "111-0000008-0000002\t2026-10-01T10:00:00Z\tShipped\tMFN\tAmazon.com\tMug\t1e400\n",
        "111-0000008-0000003\t2026-10-01T10:00:00Z\tShipped\tMFN\tAmazon.com\t"
        '=HYPERLINK("http://x")<script>🙂中文\x00\t9.99\n',
    ]
    report = load(
        account,
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        (header + "".join(rows)).encode(),
    )
    messages = [m for _, m in report.rejected]
    assert len(messages) == 2 and "not an Amazon order id" in messages[0]
    assert "item-price" in messages[1]
    order = Order.objects.get(order_ref="111-0000008-0000003")
    assert order.items[0]["title"] == '=HYPERLINK("http://x")<script>🙂中文'
    with pytest.raises(ValidationFailed) as exc:
        load(account, "GET_SELLER_FEEDBACK_DATA", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    assert "no 'date'" in str(exc.value)
    with pytest.raises(ValidationFailed):
        load(account, "GET_SELLER_FEEDBACK_DATA", b"")
    with pytest.raises(ValidationFailed) as exc:
        load(account, "NOT_A_REPORT", b"x")
    assert "unknown Amazon report type" in str(exc.value)
    huge = finances_json(refunds=[("111-0000008-0000003", "2026-10-05T10:00:00Z")]).replace(
        b"-19.99", b"-1e300"
    )
    report = load(account, "LIST_FINANCIAL_EVENTS", huge)
    assert report.created == 0 and "not believable" in report.rejected[0][1]


def test_a_rebuild_of_a_mirrored_ledger_gives_the_same_projections(cast: dict[str, Any]) -> None:
    from defectdesk.ledger.rebuild import ledger_rebuild

    account = account_for(cast["alice"])
    ref = "111-0000010-0000001"
    load(
        account,
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        orders_tsv([(ref, "2026-10-01T10:00:00-07:00", "Cancelled", "MFN")]),
    )
    load(account, "GET_SELLER_FEEDBACK_DATA", feedback_tsv([("10/05/26", 1, "Late", ref)]))
    load(account, "LIST_FINANCIAL_EVENTS", finances_json(claims=[(ref, "2026-10-06T10:00:00Z")]))

    def snapshot() -> list[Any]:
        return sorted(
            Defect.objects.values_list("order__order_ref", "kind", "status", "source_key")
        ) + list(Order.objects.values_list("order_ref", "status", "cancelled_by", "ship_by"))

    before = snapshot()
    ledger_rebuild()
    assert snapshot() == before
    assert ("111-0000010-0000001", "cancelled", None, None) in before
