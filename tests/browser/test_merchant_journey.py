"""A new merchant's journey through the Seller Center, in a real browser (system Chromium).

alice finds a problem order, appeals its defect with an explanation and a file, answers the
reviewer's question and sees the decision change her Order Defect Rate; bob (read-only) sees
no Appeal button; carol (another seller) cannot reach S-1's pages.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from PIL import Image

from defectdesk.appeals.actions import appeal_decide, appeal_request_info
from defectdesk.appeals.models import Appeal
from defectdesk.ledger.ingest import Candidate, events_ingest
from defectdesk.notify.actions import outbox_deliver

NOW = datetime(2026, 10, 20, 16, 0, tzinfo=UTC)
PASSWORD = "correct-horse-1"
FEEDBACK_ORDER = "111-1000001-0000001"
SECOND_ORDER = "111-1000002-0000002"
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'
EXPLANATION = (
    "The buyer's comment reviews the mug's colour, not our shipping or service; it belongs "
    "in the product reviews. " + HOSTILE
)


@pytest.fixture
def frozen_clock(settings: Any) -> Iterator[None]:
    # The browser keeps real time: session cookies must not carry an expiry from the past.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    with time_machine.travel(NOW, tick=True):
        yield


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), "#3f8cff").save(out, "PNG")
    return out.getvalue()


def _shop(make_event: Any) -> None:
    events = []
    for i in range(1, 11):
        ref = f"111-100000{i - 1 if i < 10 else 9}-00000{i:02d}"
        if i == 1:
            ref = FEEDBACK_ORDER
        if i == 2:
            ref = SECOND_ORDER
        day = f"2026-09-{i + 5:02d}"
        events += [
            make_event(
                order=ref,
                at=f"{day}T12:00:00Z",
                buyer=f"B-{i}",
                ship_by=f"{day}T23:59:59-07:00",
                deliver_by="2026-09-30T23:59:59-07:00",
                items=[{"sku": f"MUG-{i:02d}", "title": "Mug", "quantity": 1, "price": "19.99"}],
            ),
            make_event(
                "order.shipped",
                order=ref,
                at=f"{day}T18:00:00Z",
                carrier="UPS",
                tracking_number=f"1Z{i:06d}",
            ),
            make_event(
                "shipment.scanned",
                order=ref,
                at=f"{day}T20:00:00Z",
                status="accepted",
                location="Reno, NV",
            ),
            make_event("order.delivered", order=ref, at="2026-09-25T15:00:00Z", signature=True),
        ]
    for ref in (FEEDBACK_ORDER, SECOND_ORDER):
        events.append(
            make_event(
                "feedback.posted",
                order=ref,
                at="2026-10-10T09:00:00Z",
                feedback_id=f"FB-{ref}",
                rating=1,
                comment="Colour is not what I expected",
            )
        )
    events.append(
        make_event(
            "message.received",
            order=SECOND_ORDER,
            at="2026-10-20T09:00:00Z",
            message_id="M-1",
            body="Can I return the mug? <b>It is the wrong colour</b>",
        )
    )
    foreign = make_event(order="222-0000001-0000001", seller="S-2", at="2026-09-10T12:00:00Z")
    events.append(foreign)
    result = events_ingest([Candidate(i, e) for i, e in enumerate(events)])
    assert result.rejected == [], result.rejected


def _sign_in(page: Any, base: str, username: str, shoot: Any = None, home: str = "/") -> None:
    page.goto(f"{base}/signin/")
    if shoot is not None:
        shoot("00-sign-in")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{home}")


def _odr_text(page: Any) -> str:
    card = page.locator("article.metric").filter(
        has=page.get_by_role("heading", name="Order Defect Rate")
    )
    return str(card.locator("a.rate").inner_text())


@pytest.mark.usefixtures("frozen_clock")
def test_alice_appeals_a_problem_order_and_sees_her_health_improve(
    transactional_db: Any,
    live_server: Any,
    cast: dict[str, Any],
    make_event: Any,
    open_page: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    _shop(make_event)
    base = live_server.url
    alice = open_page("alice")
    page = alice.page

    _sign_in(page, base, "alice", alice.shoot)
    page.reload()  # the browser's time zone cookie is now set
    assert page.get_by_role("heading", name="Account health", level=1).is_visible()
    odr_before = _odr_text(page)
    assert odr_before == "20.00%"
    alice.check_accessible()
    alice.shoot("01-account-health")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    page.wait_for_url(f"{base}/orders/")
    alice.check_accessible()
    alice.shoot("02-orders")

    page.get_by_label("Problem orders").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*problem=1.*"))
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    alice.shoot("03-orders-problem")

    page.get_by_role("link", name=FEEDBACK_ORDER).click()
    page.wait_for_url(f"{base}/orders/US/{FEEDBACK_ORDER}/")
    assert page.get_by_text("Appealable until").is_visible()
    # Dates show in the marketplace's zone, named (the browser runs in Europe/Berlin).
    assert "Oct 10, 2026 02:00 PDT" in page.locator("#defects-title + article").inner_text()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    alice.check_accessible()
    alice.shoot("04-order")

    page.get_by_role("link", name="Appeal", exact=True).click()
    page.wait_for_url(re.compile(r".*/defects/\d+/appeal/"))
    alice.shoot("05-appeal-form-empty")
    page.get_by_label("Reason").select_option(label="The feedback is a product review only")
    assert "product itself" in page.locator("#reason-guidance").inner_text()
    page.get_by_role("button", name="Insert suggested explanation").click()
    assert page.get_by_label("Explanation").input_value().startswith("The feedback on order")
    page.get_by_label("Explanation").fill("Too short")
    assert "9 of 4,000" in page.locator("#explanation-count").inner_text()
    page.get_by_role("button", name="Submit appeal").click()
    # The server refuses it next to the field and keeps what was typed.
    error = page.locator("#e-explanation")
    assert "at least 30" in error.inner_text()
    assert page.get_by_label("Explanation").input_value() == "Too short"
    assert page.get_by_label("Reason").input_value() == "product_review_only"
    alice.check_accessible()
    alice.shoot("06-appeal-form-error")

    page.get_by_label("Explanation").fill(EXPLANATION)
    page.get_by_label("Supporting files").set_input_files(
        [
            {
                "name": "<img src=x onerror=window.__pwned=3>.png",
                "mimeType": "image/png",
                "buffer": _png(),
            }
        ]
    )
    page.get_by_role("button", name="Submit appeal").click()
    page.wait_for_url(re.compile(r".*/appeals/\d+/$"))
    assert page.get_by_text("Decision expected by").is_visible()
    assert page.get_by_text("Your appeal was submitted.").is_visible()
    # Markup the merchant typed is shown as text and never runs.
    assert page.evaluate("() => window.__pwned") is None
    assert page.get_by_text("<script>window.__pwned = 1</script>", exact=False).count() == 1
    alice.shoot("07-appeal-submitted")
    assert page.get_by_role("link", name="<img src=x onerror=window.__pwned=3>.png").count() == 1
    alice.check_accessible()

    appeal = Appeal.objects.get(defect__order__order_ref=FEEDBACK_ORDER)
    assert Appeal.objects.filter(defect=appeal.defect).count() == 1
    page.goto(f"{base}/appeals/?tab=review")
    assert "Decision expected by" in page.locator("tbody").inner_text()
    alice.check_accessible()
    alice.shoot("07b-appeals-under-review")
    appeal_request_info(
        actor=cast["rita"],
        appeal=appeal.pk,
        question="Please attach a photo that shows the colour the listing promised.",
    )
    outbox_deliver()  # what the worker does after commit
    page.goto(f"{base}/notifications/")
    assert page.locator(".badge").count() == 1
    alice.check_accessible()
    alice.shoot("08-notifications")

    page.goto(f"{base}/appeals/")
    assert page.get_by_role("link", name=f"#{appeal.pk}").is_visible()
    assert "Reply by" in page.locator("tbody").inner_text()
    alice.check_accessible()
    alice.shoot("09-appeals-action-required")
    page.get_by_role("link", name=f"#{appeal.pk}").click()
    page.wait_for_url(f"{base}/appeals/{appeal.pk}/")
    assert page.locator(".question").get_by_text("the colour the listing promised").is_visible()
    alice.shoot("10-appeal-info-requested")
    page.get_by_label("Your reply").fill("The listing photo shows blue; the mug we sent is blue.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(f"{base}/appeals/{appeal.pk}/")
    assert page.get_by_text("Your reply was sent").is_visible()
    assert page.get_by_text("Decision expected by").is_visible()

    appeal_decide(
        actor=cast["rita"],
        appeal=appeal.pk,
        decision="approve",
        note="The comment reviews the product; the feedback is removed.",
    )
    page.reload()
    assert page.locator(".decision").get_by_text("The comment reviews the product").is_visible()
    alice.check_accessible()
    alice.shoot("11-appeal-approved")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account health").click()
    page.wait_for_url(f"{base}/")
    odr_after = _odr_text(page)
    assert odr_after == "10.00%", (odr_before, odr_after)
    alice.shoot("12-account-health-after")

    page.goto(f"{base}/appeals/?tab=decided")
    assert page.get_by_role("link", name=f"#{appeal.pk}").is_visible()
    alice.shoot("13-appeals-decided")
    page.goto(f"{base}/messages/")
    assert page.get_by_text("<b>It is the wrong colour</b>", exact=False).count() == 1
    alice.check_accessible()
    alice.shoot("14-messages")
    page.goto(f"{base}/settings/users/")
    alice.check_accessible()
    alice.shoot("15-users")
    page.goto(f"{base}/settings/tokens/")
    page.get_by_label("Name").fill("warehouse sync")
    page.get_by_role("button", name="Create token").click()
    assert page.locator("#new-token").inner_text().startswith("dd_")
    alice.check_accessible()
    alice.shoot("16-tokens")


@pytest.mark.usefixtures("frozen_clock")
def test_bob_sees_no_appeal_button_and_carol_cannot_reach_s1(
    transactional_db: Any,
    live_server: Any,
    cast: dict[str, Any],
    make_event: Any,
    open_page: Any,
) -> None:
    _shop(make_event)
    base = live_server.url
    bob = open_page("bob")
    _sign_in(bob.page, base, "bob")
    bob.page.goto(f"{base}/orders/US/{FEEDBACK_ORDER}/")
    assert bob.page.get_by_text("Negative feedback").first.is_visible()
    assert bob.page.get_by_role("link", name="Appeal", exact=True).count() == 0
    assert bob.page.get_by_text("Read-only access").is_visible()
    assert bob.page.get_by_role("link", name="Users").count() == 0
    bob.shoot("20-order-read-only")

    carol = open_page("carol")
    carol.allowed_404 = True
    _sign_in(carol.page, base, "carol")
    carol.shoot("21-account-health-carol")
    for path in (f"/orders/US/{FEEDBACK_ORDER}/", "/orders/?seller=S-1"):
        response = carol.page.goto(base + path)
        assert response.status == 404, path
        assert carol.page.get_by_role("heading", name="Page not found").is_visible()
    carol.shoot("22-not-found")
    carol.page.goto(f"{base}/orders/")
    assert FEEDBACK_ORDER not in carol.page.content()
