"""Our ODR over Amazon's own window beside Amazon's number: equal where the data allows, and
each difference listed with its cause; pasting Amazon's e-mail fills the entry form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import time_machine
from django.test import Client

from defectdesk.mirror.notice import notice_read
from defectdesk.mirror.reconcile import reconciliation_for
from tests.mirror_support import account_for, feedback_tsv, finances_json, load, orders_tsv

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _report(orders: int, defects: int, feedback: int, claims: int, chargebacks: int) -> bytes:
    odr = {
        "reportingDateRange": {
            "reportingDateFrom": "2026-09-08T00:00Z",
            "reportingDateTo": "2026-11-06T23:59Z",
        },
        "orderCount": orders,
        "orderWithDefects": {"count": defects, "status": "BAD"},
        "claims": {"count": claims, "status": "NONE"},
        "chargebacks": {"count": chargebacks, "status": "NONE"},
        "negativeFeedback": {"count": feedback, "status": "NONE"},
        "fulfillmentType": "mfn",
        "status": "BAD",
        "rate": defects / orders,
        "targetValue": 0.01,
        "targetCondition": "LESS_THAN",
    }
    return orjson.dumps(
        {
            "accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "AT_RISK"}],
            "performanceMetrics": [
                {"marketplaceId": "ATVPDKIKX0DER", "orderDefectRate": {"mfn": odr}}
            ],
        }
    )


@time_machine.travel(NOW, tick=False)
def test_differences_are_listed_with_their_causes(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    refs = [f"111-0000006-00000{n:02d}" for n in range(1, 21)]
    load(
        account,
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        orders_tsv([(ref, "2026-10-01T10:00:00-07:00", "Shipped", "MFN") for ref in refs]),
    )
    load(
        account,
        "GET_SELLER_FEEDBACK_DATA",
        feedback_tsv([("10/05/26", 1, "Late", refs[0]), ("10/06/26", 2, "Slow", refs[1])]),
    )
    load(
        account, "LIST_FINANCIAL_EVENTS", finances_json(claims=[(refs[2], "2026-10-10T10:00:00Z")])
    )
    # Amazon: 22 orders, 2 negative feedback, 4 claims (3 decided without a debit), 0 chargebacks.
    load(account, "GET_V2_SELLER_PERFORMANCE_REPORT", _report(22, 6, 2, 4, 0))
    rec = reconciliation_for(account)
    [mfn] = rec.channels
    assert (mfn.amazon.orders, mfn.ours.orders) == (22, 20)
    assert (mfn.amazon.negative_feedback, mfn.ours.negative_feedback) == (2, 2)
    assert (mfn.amazon.a_to_z_claim, mfn.ours.a_to_z_claim) == (4, 1)
    assert mfn.ours.orders_with_defects == 3 and mfn.ours.rate == 3 / 20
    text = "\n".join(mfn.differences)
    assert len(mfn.differences) == 2, text
    assert "3 A-to-z claims are not in your data" in text
    assert "decided without a debit" in text
    assert "2 orders of Amazon's window are not in your data: your orders start 2026-10-01" in text
    assert "feedback" not in text and "chargeback" not in text
    assert any("starts with your first import" in n for n in rec.notes)


@time_machine.travel(NOW, tick=False)
def test_matching_data_reconciles_and_the_page_says_so(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    refs = [f"111-0000007-00000{n:02d}" for n in range(1, 5)]
    load(
        account,
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        orders_tsv([(ref, "2026-10-01T10:00:00-07:00", "Shipped", "MFN") for ref in refs]),
    )
    load(account, "GET_SELLER_FEEDBACK_DATA", feedback_tsv([("10/05/26", 1, "Late", refs[0])]))
    load(account, "GET_V2_SELLER_PERFORMANCE_REPORT", _report(4, 1, 1, 0, 0))
    [mfn] = reconciliation_for(account).channels
    assert mfn.reconciled and mfn.ours.rate == mfn.amazon_rate == 0.25
    client = Client()
    client.force_login(cast["alice"])
    page = client.get(f"/amazon/{account.pk}/reconcile/").content.decode()
    assert "Your data matches Amazon's counts." in page
    health = client.get("/?marketplace=AMZ-US").content.decode()
    assert "Amazon decides" in health and "History starts at your first import" in health


def test_pasted_amazon_emails_fill_the_form() -> None:
    tz = ZoneInfo("America/Los_Angeles")
    received = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)
    claim = notice_read(
        "Subject: A-to-z Guarantee claim filed\n"
        "Order ID: 113-8871452-8288246\nClaim ID: AZ-99812\n"
        "The buyer says the item was not received. Please respond by November 5, 2026.",
        received=received,
        tz=tz,
    )
    assert claim == {
        "kind": "a_to_z_claim",
        "order": "113-8871452-8288246",
        "reason": "not_received",
        "deadline": datetime(2026, 11, 5, 23, 59, tzinfo=tz),
        "reference": "AZ-99812",
    }
    chargeback = notice_read(
        "Chargeback notification for order 114-5642155-9428269: the buyer's bank reports an "
        "unauthorized charge. Respond within 7 days.",
        received=received,
        tz=tz,
    )
    assert chargeback["kind"] == "chargeback" and chargeback["reason"] == "fraud"
    assert chargeback["deadline"] == datetime(2026, 11, 9, 10, 0, tzinfo=tz)
    info = notice_read(
        "We need additional information about order 113-8871452-8288246. Please provide it "
        "by 11/08/2026.",
        received=received,
        tz=tz,
    )
    assert info["kind"] == "info_request" and info["deadline"].day == 8
    assert notice_read("<script>alert(1)</script> 🙂 中文", received=received, tz=tz) == {}


@time_machine.travel(NOW, tick=False)
def test_the_entry_page_fills_from_an_email_and_enters_a_claim(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    client = Client()
    client.force_login(cast["alice"])
    url = f"/amazon/{account.pk}/enter/"
    page = client.post(
        url,
        {
            "email": "A-to-z claim on order 113-8871452-8288246, item not received. "
            "Respond by November 22, 2026.",
            "read_email": "1",
        },
    ).content.decode()
    assert 'value="113-8871452-8288246"' in page
    assert "2026-11-22T23:59" in page
    bad = client.post(url, {"kind": "a_to_z_claim", "order": "=HYPERLINK(1)", "reason": "other"})
    assert bad.status_code == 200 and "must be an Amazon order id" in bad.content.decode()
    done = client.post(
        url,
        {
            "kind": "a_to_z_claim",
            "order": "113-8871452-8288246",
            "reason": "not_received",
            "deadline": "2026-11-22T23:59",
        },
    )
    assert done.status_code == 302
    from defectdesk.mirror.models import HiddenFact

    fact = HiddenFact.objects.get()
    assert fact.deadline == datetime(2026, 11, 23, 7, 59, tzinfo=UTC)
