"""A seller in two marketplaces (US and CN) appeals in a browser; a reviewer decides it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from defectdesk.accounts.actions import seller_ensure
from defectdesk.accounts.models import Membership
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.ledger.models import Marketplace
from tests.browser.conftest import pass_second_factor
from tests.browser.test_merchant_journey import _png, _sign_in, frozen_clock  # noqa: F401

US_ORDER = "333-US-0000001"
CN_ORDER = "333-CN-0000001"
EXPLANATION = (
    "The buyer's comment reviews the mug's colour, not our shipping or service; it belongs "
    "in the product reviews."
)


def _ledger(cast: dict[str, Any], make_event: Any) -> None:
    """carol owns S-2 (US) and S-3 (US and CN, CN's orders the most recent)."""
    Marketplace.objects.create(code="CN", name="China", timezone="Asia/Shanghai", currency="CNY")
    s3 = seller_ensure("S-3", name="Global Goods")
    Membership.objects.create(user=cast["carol"], seller=s3, role=Membership.Role.OWNER)
    events = [make_event(order="222-0000001", seller="S-2", at="2026-09-10T12:00:00Z")]
    for ref, market, day, offset, currency in (
        (US_ORDER, "US", "2026-09-20", "-07:00", "USD"),
        (CN_ORDER, "CN", "2026-10-01", "+08:00", "CNY"),
    ):
        common = {"order": ref, "seller": "S-3", "marketplace": market}
        events += [
            make_event(
                at=f"{day}T04:00:00Z",
                ship_by=f"{day}T23:59:59{offset}",
                deliver_by="2026-10-15T23:59:59+00:00",
                total={"amount": "19.99", "currency": currency},
                **common,
            ),
            make_event("order.shipped", at=f"{day}T08:00:00Z", tracking_number="1Z", **common),
            make_event("order.delivered", at="2026-10-08T08:00:00Z", **common),
            make_event(
                "feedback.posted",
                at="2026-10-10T09:00:00Z",
                feedback_id=f"FB-{ref}",
                rating=1,
                comment="Colour is not what I expected",
                **common,
            ),
        ]
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert result.rejected == [], result.rejected


def _market(page: Any) -> str:
    return str(page.locator("#market-switch").input_value())


def _switch(page: Any, code: str) -> None:
    """Choose a marketplace in the header's switcher (a plain form: no script needed)."""
    page.locator("#market-switch").select_option(code)
    page.locator("#market-switch-go").click()
    page.wait_for_url(re.compile(rf".*marketplace={code}.*"))


@pytest.mark.usefixtures("frozen_clock")
def test_a_seller_in_two_marketplaces_appeals_and_a_reviewer_decides(
    transactional_db: Any,
    live_server: Any,
    cast: dict[str, Any],
    make_event: Any,
    open_page: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    _ledger(cast, make_event)
    base = live_server.url
    carol = open_page("carol")
    page = carol.page
    _sign_in(page, base, "carol")
    page.get_by_label("Seller").select_option("S-3")
    page.locator("#seller-switch-go").click()
    page.wait_for_url(re.compile(r".*seller=S-3.*"))
    assert page.get_by_role("heading", name="Account health", level=1).is_visible()
    assert _market(page) == "CN"  # the marketplace with the most recent orders
    assert "Times in Asia/Shanghai" in page.locator("header").inner_text()
    carol.check_accessible()
    carol.shoot("mk-01-health-cn")
    # Two sellers and two marketplaces: the main bar stays one line at 1366 px.
    bar = page.locator(".top-inner").bounding_box()
    assert bar is not None and bar["height"] < 70, bar
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= 1366, wide

    _switch(page, "US")
    assert _market(page) == "US"
    assert "Times in America/Los_Angeles" in page.locator("header").inner_text()
    carol.shoot("mk-02-health-us")
    page.get_by_role("link", name=re.compile("Order Defect Rate")).first.click()
    page.wait_for_load_state()
    carol.check_accessible()
    carol.shoot("mk-03-metric-odr")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    page.wait_for_url(f"{base}/orders/")
    assert _market(page) == "US"  # remembered
    page.get_by_label("Problem orders").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*problem=1.*"))
    assert CN_ORDER not in page.locator("main").inner_text()
    carol.check_accessible()
    carol.shoot("mk-04-orders-problem")

    page.get_by_role("link", name=US_ORDER).click()
    page.wait_for_url(f"{base}/orders/US/{US_ORDER}/")
    text = page.locator("main").inner_text()
    assert "PDT" in text and "UTC" not in text
    carol.check_accessible()
    carol.shoot("mk-05-order")

    page.get_by_role("link", name="Appeal", exact=True).first.click()
    page.wait_for_url(re.compile(r".*/defects/\d+/appeal/"))
    page.get_by_label("Reason").select_option(index=1)
    page.get_by_label("Explanation").fill(EXPLANATION)
    page.get_by_label("Supporting files").set_input_files(
        [{"name": "listing.png", "mimeType": "image/png", "buffer": _png()}]
    )
    carol.shoot("mk-06-appeal-form")
    # Another tab switches to CN in the middle of the form: the form keeps its marketplace.
    other = page.context.new_page()
    other.goto(f"{base}/")
    _switch(other, "CN")
    other.close()
    page.get_by_role("button", name="Submit appeal").click()
    page.wait_for_url(re.compile(r".*/appeals/\d+/$"))
    assert page.get_by_text("Your appeal was submitted.").is_visible()
    assert _market(page) == "US" and US_ORDER in page.locator("main").inner_text()
    appeal_url = page.url
    carol.check_accessible()
    carol.shoot("mk-07-appeal-submitted")

    rita = open_page("rita")
    review = rita.page
    review.goto(f"{base}/signin/")
    review.get_by_label("User name").fill("rita")
    review.get_by_label("Password").fill("correct-horse-1")
    review.get_by_role("button", name="Sign in").click()
    review.wait_for_url(re.compile(r".*/two-factor/setup/.*"))  # staff need a second factor
    rita.shoot("mk-09-two-factor-setup")
    pass_second_factor(review)
    review.wait_for_url(f"{base}/review/")
    rita.check_accessible()
    rita.shoot("mk-10-review-queue")
    review.locator("#seller-search").fill("' OR 1=1 --")
    review.get_by_role("button", name="Find").first.click()
    review.wait_for_url(re.compile(r".*/sellers/\?q=.*"))
    assert review.get_by_text("No seller matches").is_visible()
    review.locator("#q").fill("Global")
    review.get_by_role("button", name="Find").last.click()
    review.get_by_role("link", name="Global Goods (S-3)").click()
    assert _market(review) == "CN"
    rita.check_accessible()
    rita.shoot("mk-11-seller-found")
    review.goto(f"{base}/review/")
    review.locator("#queue tbody tr").first.get_by_role("button", name="Assign to me").click()
    review.wait_for_url(re.compile(r".*/review/appeals/\d+/$"))
    rita.check_accessible()
    rita.shoot("mk-12-review-appeal")
    review.get_by_label("Question to the merchant").fill("Which colour did the listing show?")
    review.get_by_role("button", name="Request information").click()
    assert review.locator("#appeal-status").inner_text() == "Information requested"
    rita.shoot("mk-13-info-requested")

    page.goto(appeal_url)
    page.get_by_label("Your reply").fill("The listing shows blue; we sent a blue mug.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(appeal_url)
    carol.shoot("mk-08-replied")

    review.reload()
    review.get_by_role("button", name="Approve").click()
    assert review.locator("#appeal-status").inner_text() == "Approved"
    rita.shoot("mk-14-approved")
    page.reload()
    carol.shoot("mk-09-approved")
    assert carol.errors == [] and rita.errors == [], (carol.errors, rita.errors)
