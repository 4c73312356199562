"""Shared pieces of the mirror-mode tests: the sample folder, an account, and small reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from defectdesk.core.actors import Actor
from defectdesk.mirror.actions import mirror_account_create
from defectdesk.mirror.importing import ImportReport, amazon_import
from defectdesk.mirror.models import MirrorAccount

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "amazon"
for _candidate in (
    SAMPLES,
    Path("/work/shared/samples/amazon"),
    Path(__file__).resolve().parents[1] / "shared" / "samples" / "amazon",
):
    if _candidate.is_dir():
        SAMPLES = _candidate
        break

# Each sample file and the report type it is.
SAMPLE_TYPES = {
    "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL.airbyte-fixture.tsv": (
        "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL"
    ),
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA.airbyte-fixture.tsv": (
        "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
    ),
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL.airbyte-records.jsonl": (
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
    ),
    "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE.airbyte-fixture.tsv": (
        "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE"
    ),
    "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE.airbyte-fixture.tsv": (
        "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
    ),
    "GET_SELLER_FEEDBACK_DATA.airbyte-fixture.tsv": "GET_SELLER_FEEDBACK_DATA",
    "ListFinancialEvents.airbyte-record.jsonl": "LIST_FINANCIAL_EVENTS",
    "OrderChangeNotification.example.json": "ORDER_CHANGE_NOTIFICATION",
    "accountHealthReport-2020-11-18.example.json": "GET_V2_SELLER_PERFORMANCE_REPORT",
    "financesV0.sandbox.listFinancialEventsByGroupId.response.json": "LIST_FINANCIAL_EVENTS",
}

ORDERS_HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\t"
    "fulfillment-channel\tsales-channel\tsku\tproduct-name\tquantity\tcurrency\titem-price"
)


def account_for(user: Any, seller: str = "S-1", site: str = "amazon.com") -> MirrorAccount:
    from defectdesk.accounts.models import Seller

    return mirror_account_create(
        actor=user, seller=Seller.objects.get(external_id=seller), site=site
    )


def orders_tsv(rows: list[tuple[str, str, str, str]], *, crlf: bool = False) -> bytes:
    """An all-orders TSV: (order id, purchase time, status, channel) per row."""
    lines = [ORDERS_HEADER]
    for ref, at, status, channel in rows:
        lines.append(
            f"{ref}\t\t{at}\t{at}\t{status}\t{channel}\tAmazon.com\tSKU-1\tMug\t1\tUSD\t19.99"
        )
    end = "\r\n" if crlf else "\n"
    return (end.join(lines) + end).encode()


def feedback_tsv(rows: list[tuple[str, int, str, str]]) -> bytes:
    """A seller feedback TSV: (US date m/d/y, rating, comment, order id) per row."""
    lines = ["Date\tRating\tComments\tYour Response\tOrder ID\tRater Email"]
    for day, rating, comment, ref in rows:
        lines.append(f"{day}\t{rating}\t{comment}\t\t{ref}\tbuyer@example.com")
    return ("\n".join(lines) + "\n").encode()


def finances_json(
    refunds: list[tuple[str, str]] = (),  # type: ignore[assignment]
    claims: list[tuple[str, str]] = (),  # type: ignore[assignment]
    chargebacks: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """A ListFinancialEvents page: (order id, posted time) per event."""
    import orjson

    def event(ref: str, at: str) -> dict[str, Any]:
        return {
            "AmazonOrderId": ref,
            "MarketplaceName": "Amazon.com",
            "PostedDate": at,
            "ShipmentItemAdjustmentList": [
                {
                    "ItemChargeAdjustmentList": [
                        {
                            "ChargeType": "Principal",
                            "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -19.99},
                        }
                    ]
                }
            ],
        }

    return orjson.dumps(
        {
            "payload": {
                "FinancialEvents": {
                    "RefundEventList": [event(r, a) for r, a in refunds],
                    "GuaranteeClaimEventList": [event(r, a) for r, a in claims],
                    "ChargebackEventList": [event(r, a) for r, a in chargebacks],
                }
            }
        }
    )


def load(
    account: MirrorAccount, report_type: str, content: bytes, who: Any = None, **kw: Any
) -> ImportReport:
    return amazon_import(
        actor=Actor(user=who), account=account, report_type=report_type, content=content, **kw
    )
