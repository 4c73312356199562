"""DefectDesk in Simplified Chinese: languages chosen, text kept as written, packet, e-mail.

The packet of an appeal written in Chinese shows its Chinese text (extracted with pypdf and
rendered with pdftoppm); a zh-CN user's e-mails are Chinese with dates in the marketplace's
zone; bad language input falls back to English or is refused with a message.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation
from pypdf import PdfReader

from defectdesk.accounts.actions import language_set
from defectdesk.accounts.models import Seller, UserPreference
from defectdesk.appeals.actions import (
    appeal_attach,
    appeal_create,
    appeal_request_info,
    appeal_submit,
)
from defectdesk.appeals.fonts import CJK_FONT, cjk_font, cjk_font_file
from defectdesk.appeals.packet import packet_render
from defectdesk.core.actors import SYSTEM
from defectdesk.core.errors import ValidationFailed
from defectdesk.core.language import language_from_header, money_text, written_language
from defectdesk.core.models import AuditEvent
from defectdesk.core.timeutil import zone
from defectdesk.ledger.actions import marketplace_set
from defectdesk.notify.actions import outbox_deliver
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    NOW,
    claim_refunded_first,
    client_for,
    frozen,
    media,
    png_bytes,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")

RTL = "مرحبا بالعالم"
EXPLANATION = (
    "我们在买家提出索赔之前就已经全额退款，退款记录见附件。"
    f"买家也确认已收到退款 👍🙏。{RTL} 请求移除该索赔，谢谢！"
)
FILE_NAME = "退款凭证 2026-10-03.png"
SHOTS = Path(__file__).resolve().parent / "browser" / "screenshots"


def _chinese_appeal(
    cast: dict[str, Any], make_event: Any, reason: str = "refunded_before_claim"
) -> Any:
    Seller.objects.filter(external_id="S-1").update(name="深圳杯具有限公司")
    defect = claim_refunded_first(make_event)
    appeal = appeal_create(
        actor=cast["alice"], defect=defect, reason=reason, explanation=EXPLANATION
    )
    appeal_attach(actor=cast["alice"], appeal=appeal, uploads=[(FILE_NAME, png_bytes())])
    return appeal_submit(actor=cast["alice"], appeal=appeal)


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_packet_of_a_chinese_appeal_embeds_a_chinese_font_and_shows_the_text(
    cast: dict[str, Any], make_event: Any
) -> None:
    assert cjk_font_file() is not None, (
        "no font covering Chinese: apt-get install -y fonts-wqy-zenhei (.ci/run does)"
    )
    assert cjk_font() == (CJK_FONT, True)
    appeal = _chinese_appeal(cast, make_event)
    with translation.override("zh-hans"):
        pdf = packet_render(appeal)
    text = _text(pdf)
    squeezed = "".join(text.split())
    for piece in ("我们在买家提出索赔之前就已经全额退款", "请求移除该索赔", "深圳杯具有限公司"):
        assert piece in squeezed, piece
    assert "申诉说明（卖家以中文撰写，保留原文）" in squeezed
    assert "订单时间线" in squeezed and "A-to-z索赔" in squeezed
    assert "退款凭证2026-10-03.png" in squeezed
    assert "2026年10月7日" in squeezed  # the claim, in the marketplace's zone
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("WenQuanYi" in name for name in fonts), fonts
    assert b"/FontFile2" in pdf  # the TrueType subset is embedded, not just named
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm renders the packet for a look: apt-get install -y poppler-utils")
    SHOTS.mkdir(exist_ok=True)
    source = SHOTS / "packet-zh.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(source), str(SHOTS / "packet-zh")],
        check=True,
        capture_output=True,
    )
    assert (SHOTS / "packet-zh.png").stat().st_size > 10_000


def test_an_english_packet_of_a_chinese_appeal_still_shows_the_chinese_text(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = _chinese_appeal(cast, make_event)
    with translation.override("en"):
        text = "".join(_text(packet_render(appeal)).split())
    assert "我们在买家提出索赔之前就已经全额退款" in text
    assert "Explanation(writteninChinese,astheseller" in text


def test_the_explanation_is_kept_exactly_and_counted_in_characters(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = _chinese_appeal(cast, make_event)
    appeal.refresh_from_db()
    assert appeal.explanation == EXPLANATION
    assert appeal.explanation_language == "zh"
    # 30 characters is the minimum: 30 Chinese characters pass though they are 90 bytes.
    thirty = "货" * 30
    assert len(thirty.encode()) == 90
    defect = appeal.defect
    short = "货" * 29
    with pytest.raises(ValidationFailed) as refused:
        appeal_create(actor=cast["alice"], defect=defect, reason="other", explanation=short)
    assert "29" in refused.value.errors[0].message


def test_the_reviewer_sees_the_language_marked_and_the_merchant_her_own_text(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = _chinese_appeal(cast, make_event)
    page = client_for(cast["rita"]).get(
        f"/review/appeals/{appeal.pk}/", HTTP_ACCEPT_LANGUAGE="en-US"
    )
    html = page.content.decode()
    assert "Written in Chinese; shown exactly as the seller wrote it." in html
    assert 'lang="zh" dir="auto">' + EXPLANATION.replace("'", "&#x27;") in html
    mine = client_for(cast["alice"]).get(f"/appeals/{appeal.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert EXPLANATION in mine.content.decode()


def test_a_chinese_file_name_is_kept_and_served_per_rfc_5987(
    cast: dict[str, Any], make_event: Any
) -> None:
    appeal = _chinese_appeal(cast, make_event)
    item = appeal.files.get()
    assert item.original_name == FILE_NAME
    expected = "filename*=utf-8''%E9%80%80%E6%AC%BE%E5%87%AD%E8%AF%81%202026-10-03.png"
    merchant = client_for(cast["alice"]).get(f"/api/v1/appeals/{appeal.pk}/files/{item.pk}")
    assert merchant.status_code == 200
    assert merchant["Content-Disposition"] == f"attachment; {expected}"
    reviewer = client_for(cast["rita"]).get(
        f"/review/appeals/{appeal.pk}/files/{item.pk}/?download=1"
    )
    assert reviewer["Content-Disposition"] == f"attachment; {expected}"
    inline = client_for(cast["rita"]).get(f"/review/appeals/{appeal.pk}/files/{item.pk}/")
    assert inline["Content-Disposition"] == f"inline; {expected}"


def test_e_mails_of_a_chinese_user_are_chinese_with_dates_in_the_marketplace_zone(
    cast: dict[str, Any], make_event: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    marketplace_set(
        actor=SYSTEM, code="US", timezone="America/Los_Angeles", currency="USD", language="en"
    )
    alice, bob = cast["alice"], cast["bob"]
    alice.email, bob.email = "alice@example.com", "bob@example.com"
    alice.save()
    bob.save()
    language_set(actor=SYSTEM, user=alice, language="zh-hans")
    appeal = _chinese_appeal(cast, make_event, reason="other")
    appeal_request_info(actor=cast["rita"], appeal=appeal.pk, question="请提供退款截图。")
    mail.outbox.clear()
    outbox_deliver()
    by_address = {m.to[0]: m for m in mail.outbox}
    chinese, english = by_address["alice@example.com"], by_address["bob@example.com"]
    assert chinese.subject == f"申诉 {appeal.pk}：待补充材料"
    # The claim's label keeps its capitals inside a Chinese sentence.
    assert "您就订单 111-0000002-0000002 的A-to-z 索赔提交的申诉" in chinese.body
    assert f"申诉 {appeal.pk}" in chinese.body and "当前状态：待补充材料" in chinese.body
    appeal.refresh_from_db()
    due = appeal.info_due_at.astimezone(zone("America/Los_Angeles"))
    assert due.utcoffset() is not None and due.utcoffset().total_seconds() == -7 * 3600
    when = f"{due.year}年{due.month}月{due.day}日 {due:%H:%M} PDT（America/Los_Angeles）"
    assert f"请在 {when} 前回复" in chinese.body, chinese.body
    assert "点击查看：" in chinese.body
    assert english.subject == f"Appeal {appeal.pk}: information requested"
    english_when = f"{due.day} {due:%b %Y, %H:%M} PDT (America/Los_Angeles)"
    assert f"Please answer by {english_when}" in english.body
    # The in-app notification is in each user's language too.
    assert alice.notifications.filter(subject=chinese.subject).count() == 1


def test_a_user_with_no_language_gets_the_marketplace_default(
    cast: dict[str, Any], make_event: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    marketplace_set(
        actor=SYSTEM, code="US", timezone="America/Los_Angeles", currency="USD", language="zh-hans"
    )
    cast["bob"].email = "bob@example.com"
    cast["bob"].save()
    appeal = _chinese_appeal(cast, make_event, reason="other")
    appeal_request_info(actor=cast["rita"], appeal=appeal.pk, question="?")
    mail.outbox.clear()
    outbox_deliver()
    subjects = {m.subject for m in mail.outbox}
    assert f"申诉 {appeal.pk}：待补充材料" in subjects, subjects
    page = Client()
    page.force_login(cast["alice"])
    home = page.get("/")  # no Accept-Language: the marketplace in view decides
    assert '<html lang="zh-hans">' in home.content.decode()
    english = page.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert '<html lang="en">' in english.content.decode()


@pytest.mark.parametrize(
    "header",
    [
        "fr-FR,de;q=0.8",
        "xx",
        ";;;q=x,,",
        "zh-CN;q=abc",
        "*",
        "en-US;q=0.5," * 200,
        "\u4e2d\u6587",
        "",
    ],
)
def test_an_accept_language_we_do_not_have_or_malformed_gives_english(
    cast: dict[str, Any], header: str
) -> None:
    response = Client().get("/signin/", HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()
    assert response["Content-Language"] == "en"


def test_accept_language_zh_cn_and_zh_sg_choose_simplified_chinese() -> None:
    assert language_from_header("zh-CN,zh;q=0.9,en;q=0.8") == "zh-hans"
    assert language_from_header("en;q=0.1, zh-SG;q=0.9") == "zh-hans"
    assert language_from_header("de, zh-Hans") == "zh-hans"
    assert language_from_header("de-DE") == ""


def test_a_language_that_does_not_exist_is_refused_when_saved(cast: dict[str, Any]) -> None:
    alice = cast["alice"]
    for bad in ("klingon", "zh-hant", "zh_CN", "en\x00", "<b>fr</b>", "x" * 5000):
        with pytest.raises(ValidationFailed) as refused:
            language_set(actor=SYSTEM, user=alice, language=bad)
        assert refused.value.errors[0].field == "language"
    assert not UserPreference.objects.filter(user=alice).exclude(language="").exists()
    client = client_for(alice)
    page = client.post(
        "/settings/you/", {"time_zone": "", "language": "klingon"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 200
    assert "is not a language of DefectDesk" in page.content.decode()
    switch = client.post("/language/", {"language": "klingon"})
    assert switch.status_code == 400
    assert "is not a language of DefectDesk" in switch.content.decode()
    assert not AuditEvent.objects.filter(action="user.language_set").exists()


def test_the_setting_and_the_switch_change_the_language_and_are_audited(
    cast: dict[str, Any],
) -> None:
    client = client_for(cast["alice"])
    saved = client.post("/settings/you/", {"time_zone": "", "language": "zh-hans"})
    assert saved.status_code == 302
    page = client.get("/settings/you/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<html lang="zh-hans">' in page.content.decode()  # the setting beats the browser
    assert "设置已保存。" in page.content.decode()
    back = client.post("/language/", {"language": "en"}, HTTP_REFERER="http://testserver/orders/")
    assert back.status_code == 302 and back["Location"] == "http://testserver/orders/"
    assert UserPreference.objects.get(user=cast["alice"]).language == "en"
    assert AuditEvent.objects.filter(action="user.language_set").count() == 2
    # Somewhere else entirely is not a place to go back to.
    away = client.post("/language/", {"language": "en"}, HTTP_REFERER="https://evil.example/")
    assert away["Location"] == "/"


@pytest.mark.django_db  # the sign-in form's CSRF token is kept in the session (CSRF_USE_SESSIONS)
def test_an_anonymous_visitor_switches_with_a_cookie() -> None:
    client = Client(enforce_csrf_checks=False)
    response = client.post("/language/", {"language": "zh-hans"})
    assert response.status_code == 302
    page = client.get("/signin/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert '<html lang="zh-hans">' in page.content.decode()


def test_the_api_detail_is_chinese_and_the_code_stays_english(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = claim_refunded_first(make_event)
    response = client_for(cast["alice"]).post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": "太短"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "申诉说明无效。"
    assert body["errors"][0]["message"] == "现有 2 个字符，至少需要 30 个字符"
    assert body.get("code", "invalid") == "invalid"


def test_money_and_written_language_helpers() -> None:
    from decimal import Decimal

    assert money_text(Decimal("19.99"), "USD", "zh-hans") == "US$19.99"
    assert money_text(Decimal("1234.5"), "CNY", "zh-hans") == "¥1,234.50"
    assert money_text(Decimal("19.99"), "USD", "en") == "$19.99"
    assert written_language(EXPLANATION) == "zh"
    assert written_language("Delivered on time, thanks") == "en"
    assert written_language(RTL) == "ar"
    assert written_language("12345 !!!") == ""


def test_the_cli_speaks_the_language_of_the_locale() -> None:
    from defectdesk.cli import cli_language

    assert cli_language({"LANG": "zh_CN.UTF-8"}) == "zh-hans"
    assert cli_language({"LC_ALL": "zh_SG.utf8", "LANG": "en_US.UTF-8"}) == "zh-hans"
    assert cli_language({"LANG": "C.UTF-8"}) == ""
    assert cli_language({"LANG": "de_DE.UTF-8"}) == ""
    assert cli_language({"DEFECTDESK_LANGUAGE": "zh-hans", "LANG": "en_US"}) == "zh-hans"
    assert cli_language({"DEFECTDESK_LANGUAGE": "klingon"}) == ""


def test_a_cli_refusal_in_chinese_names_the_fields_in_english(db: Any) -> None:
    from django.core.management import CommandError, call_command

    with translation.override("zh-hans"), pytest.raises(CommandError) as refused:
        call_command("marketplace", "set", "ZZ", "--timezone", "Mars/Olympus", "--currency", "usd")
    message = str(refused.value)
    assert "站点 'ZZ' 未保存。" in message
    assert "timezone: 未知时区 'Mars/Olympus'" in message
    with translation.override("zh-hans"), pytest.raises(CommandError) as bad_language:
        call_command(
            "marketplace", "set", "ZZ", "--timezone", "UTC", "--currency", "USD", "--language", "xx"
        )
    assert "language: 'xx' 不是 DefectDesk 支持的语言" in str(bad_language.value)
