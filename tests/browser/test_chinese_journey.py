"""The merchant's and the reviewer's journeys with the browser in Simplified Chinese (zh-CN).

alice, whose browser asks for zh-CN, signs in, finds the problem order, appeals its defect
with an explanation written in Chinese (with emoji and a right-to-left phrase) and a file
with a Chinese name, submits it and follows its status; rita reviews it in Chinese, sees the
explanation exactly as written with its language marked, asks a question and approves. Every
page is checked for English interface text: anything in English that is not the seller's or
the buyer's own data, a code or an identifier fails the test.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from defectdesk.appeals.models import Appeal
from tests.browser.test_merchant_journey import (
    FEEDBACK_ORDER,
    PASSWORD,
    SECOND_ORDER,
    _png,
    _shop,
    frozen_clock,  # noqa: F401 # the fixture, used by name below
)
from tests.two_factor import code_from_secret

RTL = "مرحبا بالعالم"
EXPLANATION = (
    "买家的评论是针对杯子的颜色，并不是我们的发货或服务问题，应当属于商品评论。"
    f"我们已按时发货 🚚📦，物流显示已签收。{RTL} 谢谢！"
)
FILE_NAME = "发票 订单 111-1000001.png"

# The data of the shop (_shop) and the journey that pages show as they are: order ids, the
# buyer's words, SKUs, carriers, places, zones, user and seller names, what alice and rita type.
USER_DATA = (
    FEEDBACK_ORDER,
    SECOND_ORDER,
    "Colour is not what I expected",
    "Can I return the mug? <b>It is the wrong colour</b>",
    "Mug",
    "UPS",
    "Reno, NV",
    "America/Los_Angeles",
    "Asia/Shanghai",
    "United States",
    "alice",
    "rita",
    "Which colour did the listing show?",
    "The comment reviews the product.",
    "FB-",
    "MUG-",
)
# Codes and names that stay as they are in a Chinese page.
CODES = {
    "DefectDesk",
    "UTC",
    "PDT",
    "PST",
    "CST",
    "USD",
    "CSV",
    "PDF",
    "PNG",
    "JPEG",
    "WebP",
    "WEBP",
    "JPG",
    "TXT",
    "SKU",
    "API",
    "IANA",
    "KB",
    "MB",
    "bytes",
    "A-to-z",
    "English",
    "Django",
}
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")

TEXTS_JS = """() => {
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest('script, style, textarea, .mono, code, [data-user-text]')) continue;
    const marked = el.closest('[lang]');
    if (marked && marked !== document.documentElement && !marked.lang.startsWith('zh')) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    for (const name of ['placeholder', 'aria-label', 'title']) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  return out;
}"""


def english_ui_text(page: Any) -> list[str]:
    """Pieces of English interface text on the page (user data, codes and ids left out)."""
    found = []
    for text in page.evaluate(TEXTS_JS):
        rest = re.sub(r"(?:https?|otpauth)://\S+", " ", text)
        for data in USER_DATA:
            rest = rest.replace(data, " ")
        rest = re.sub(r"\b\d{3}-\d{7}-\d{7}\b|\b1Z\d+\b|\bB-\d+\b|\bS-\d+\b", " ", rest)
        rest = re.sub(r"[\w.-]+\.(png|pdf|jpe?g|webp|txt)\b", " ", rest)
        words = [w for w in ENGLISH_WORD.findall(rest) if w not in CODES]
        if words:
            found.append(text[:120])
    return found


class Checked:
    """A watched page whose every screen is checked for English and shot at both widths."""

    def __init__(self, watched: Any, prefix: str) -> None:
        self.watched = watched
        self.page = watched.page
        self.prefix = prefix
        self.seen: list[str] = []

    def check(self, label: str) -> None:
        self.page.wait_for_load_state("load")
        english = english_ui_text(self.page)
        assert english == [], (self.page.url, english)
        assert self.page.evaluate("() => document.documentElement.lang") == "zh-hans"
        self.watched.check_accessible()
        self.watched.shoot(f"{self.prefix}-{label}")
        self.seen.append(self.page.url)


@pytest.fixture
def chinese_page(browser: Any) -> Any:
    contexts = []
    watched = []

    def make(name: str) -> Any:
        from tests.browser.conftest import DESKTOP, Watched

        context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = Watched(context.new_page(), name)
        watched.append(page)
        return page

    yield make
    for context in contexts:
        context.close()
    for page in watched:
        assert page.errors == [], (page.name, page.errors)


def _sign_in(checked: Checked, base: str, username: str, home: str = "/") -> None:
    page = checked.page
    page.goto(f"{base}/signin/")
    checked.check("00-sign-in")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_detector_finds_english_interface_text(
    transactional_db: Any, live_server: Any, chinese_page: Any
) -> None:
    """The check can fail: an English page (the switch set to English) is caught."""
    watched = chinese_page("probe")
    page = watched.page
    page.goto(f"{live_server.url}/signin/")
    assert english_ui_text(page) == []
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换语言").click()
    page.wait_for_load_state()
    found = english_ui_text(page)
    assert "Sign in to Seller Center" in found, found
    assert page.evaluate("() => document.documentElement.lang") == "en"


@pytest.mark.usefixtures("frozen_clock")
def test_a_chinese_merchant_appeals_and_a_reviewer_decides_in_chinese(
    transactional_db: Any,
    live_server: Any,
    cast: dict[str, Any],
    make_event: Any,
    chinese_page: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    _shop(make_event)
    base = live_server.url
    alice = Checked(chinese_page("alice"), "zh")
    page = alice.page

    _sign_in(alice, base, "alice")
    page.reload()
    assert page.get_by_role("heading", name="账户状况", level=1).is_visible()
    alice.check("01-account-health")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="订单").click()
    page.wait_for_url(f"{base}/orders/")
    alice.check("02-orders")
    page.get_by_label("问题订单").check()
    page.get_by_role("button", name="应用").click()
    page.wait_for_url(re.compile(r".*problem=1.*"))
    assert page.locator("tbody tr").count() == 2
    alice.check("03-problem-orders")

    page.get_by_role("link", name=FEEDBACK_ORDER).click()
    page.wait_for_url(f"{base}/orders/US/{FEEDBACK_ORDER}/")
    # Dates in the marketplace's zone, written the Chinese way.
    assert "2026年10月10日 02:00 PDT" in page.locator("#defects-title + article").inner_text()
    alice.check("04-order")

    page.locator("#main").get_by_role("link", name="申诉", exact=True).click()
    page.wait_for_url(re.compile(r".*/defects/\d+/appeal/"))
    alice.check("05-appeal-form")
    page.get_by_label("申诉原因").select_option(label="买家反馈仅为商品评价")
    assert "商品本身" in page.locator("#reason-guidance").inner_text()
    # The suggestion is written for the reviewer, in the marketplace's language (English), with
    # the same text in Chinese beside it for alice to check.
    assert "商品评论" in page.locator("#suggested-reading").inner_text()
    assert page.locator("#suggested-text").get_attribute("lang") == "en"
    page.get_by_role("button", name="插入建议的申诉说明").click()
    assert page.get_by_label("申诉说明").input_value().startswith("The feedback on order")
    page.get_by_label("申诉说明").fill("太短了")
    page.get_by_role("button", name="提交申诉").click()
    assert "至少需要 30 个字符" in page.locator("#e-explanation").inner_text()
    alice.check("06-appeal-form-error")

    page.get_by_label("申诉说明").fill(EXPLANATION)
    # Counted in characters, not bytes (and an emoji is one character, not two).
    assert f"{len(EXPLANATION)} / 4,000" in page.locator("#explanation-count").inner_text()
    page.get_by_label("证明文件").set_input_files(
        [{"name": FILE_NAME, "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_role("button", name="提交申诉").click()
    page.wait_for_url(re.compile(r".*/appeals/\d+/$"))
    assert page.get_by_text("您的申诉已提交。").is_visible()
    assert page.locator(".quote").inner_text() == EXPLANATION
    assert page.get_by_role("link", name=FILE_NAME).count() == 1
    alice.check("07-appeal-submitted")

    appeal = Appeal.objects.get(defect__order__order_ref=FEEDBACK_ORDER)
    assert appeal.explanation == EXPLANATION
    assert appeal.files.get().original_name == FILE_NAME
    download = page.request.get(f"{base}/api/v1/appeals/{appeal.pk}/files/{appeal.files.get().pk}")
    assert download.status == 200
    assert "filename*=utf-8''" in download.headers["content-disposition"]

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="申诉").click()
    page.goto(f"{base}/appeals/?tab=review")
    alice.check("08-appeals-under-review")

    rita = Checked(chinese_page("rita"), "zh-review")
    rpage = rita.page
    _sign_in(rita, base, "rita")
    if "/two-factor/setup/" in rpage.url:
        rita.check("09-two-factor-setup")
        secret = rpage.locator("#totp-secret").inner_text()
        rpage.get_by_label("验证码").fill(code_from_secret(secret))
        rpage.get_by_role("button", name="确认").click()
        rpage.wait_for_load_state()
        rita.check("10-recovery-codes")
        rpage.get_by_role("link", name="继续").click()
        rpage.wait_for_load_state()
    rpage.goto(f"{base}/review/")
    assert rpage.get_by_role("heading", name="审核队列", level=1).is_visible()
    rita.check("11-queue")
    rpage.locator("tbody tr").first.get_by_role("button", name="分配给我").click()
    rpage.wait_for_load_state()
    rpage.goto(f"{base}/review/appeals/{appeal.pk}/")
    assert rpage.locator(".quote").inner_text() == EXPLANATION
    assert rpage.locator(".quote").get_attribute("lang") == "zh"
    assert "以中文撰写" in rpage.locator(".lang-mark").inner_text()
    rita.check("12-review-appeal")
    rpage.get_by_label("向卖家提问").fill("Which colour did the listing show?")
    rpage.get_by_role("button", name="请求补充材料").click()
    rpage.wait_for_load_state()
    rita.check("13-info-requested")

    page.goto(f"{base}/appeals/{appeal.pk}/")
    alice.check("14-appeal-info-requested")
    page.get_by_label("您的回复").fill("商品页面的图片是蓝色，我们发出的杯子也是蓝色。")
    page.get_by_role("button", name="发送回复").click()
    page.wait_for_url(f"{base}/appeals/{appeal.pk}/")
    alice.check("15-appeal-replied")

    rpage.goto(f"{base}/review/appeals/{appeal.pk}/")
    rpage.get_by_label("给卖家的备注").first.fill("The comment reviews the product.")
    rpage.get_by_role("button", name="批准").click()
    rpage.wait_for_load_state()
    rita.check("16-approved")

    page.goto(f"{base}/appeals/{appeal.pk}/")
    assert "已批准" in page.locator("main").inner_text()
    alice.check("17-appeal-approved")
    page.goto(f"{base}/notifications/")
    alice.check("18-notifications")
    page.goto(f"{base}/glossary/")
    assert page.get_by_role("cell", name="订单缺陷率").is_visible()
    alice.check("19-glossary")
    assert len(alice.seen) + len(rita.seen) >= 20
