"""At 390 px the order filters, the policy table and the review queue stay inside the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_review_journey import LATER, NOW, URGENT, _shop, _sign_in, _submit

PHONE = {"width": 390, "height": 844}
SPILL = """(selector) => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const box of document.querySelectorAll(selector)) {
    for (const el of [box, ...box.querySelectorAll('*')]) {
      if (el.closest('.table-wrap') && el !== box && !el.matches('.table-wrap')) continue;
      const r = el.getBoundingClientRect();
      if (r.width && (r.right > width + 1 || r.left < -1)) {
        out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
      }
    }
  }
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    const cut = wrap.scrollWidth - wrap.clientWidth;
    if (cut > 1) out.push('table cut: ' + cut + 'px');
  }
  return {out: out.slice(0, 5), scroll: document.documentElement.scrollWidth - width};
}"""


@pytest.mark.django_db(transaction=True)
def test_filters_policy_table_and_queue_fit_a_390px_phone(
    live_server: Any, open_page: Any, cast: dict[str, Any], make_event: Any
) -> None:
    import time_machine

    with time_machine.travel(NOW, tick=True):
        _shop(make_event)
        _submit(cast, URGENT, NOW)
        _submit(cast, LATER, NOW)
        base = live_server.url
        for user, url, selector in (
            ("alice", "/orders/", "form .filters"),
            ("otto", "/operator/marketplaces/US/policy/", "main .card"),
            ("rita", "/review/", "main form.card, main .table-wrap"),
        ):
            watched = open_page(user)
            page = watched.page
            _sign_in(page, base, user)
            page.set_viewport_size(PHONE)
            page.goto(f"{base}{url}")
            page.wait_for_load_state("load")
            found = page.evaluate(SPILL, selector)
            assert found["out"] == [] and found["scroll"] <= 1, (url, found)
            page.screenshot(path=f"/tmp/narrow-{user}.png", full_page=True)
