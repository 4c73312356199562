"""The appeal packet: a PDF with the defect, order timeline, explanation, evidence and images."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any, NamedTuple
from xml.sax.saxutils import escape  # nosec B406 # escapes text for ReportLab markup, parses no XML
from zoneinfo import ZoneInfo

from django.template.defaultfilters import filesizeformat
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from defectdesk.appeals.evidence import evidence_build
from defectdesk.appeals.filestore import evidence_read
from defectdesk.appeals.fonts import cjk_font
from defectdesk.appeals.models import Appeal
from defectdesk.appeals.reasons import reason_lookup
from defectdesk.appeals.selectors import order_state_of
from defectdesk.core.language import has_cjk, in_sentence, written_language, written_language_name
from defectdesk.core.timeutil import local_text, parse_aware, zone
from defectdesk.ledger.words import code_label, event_title

MAX_IMAGE_WIDTH = 170 * mm
MAX_IMAGE_HEIGHT = 120 * mm


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _table(rows: list[list[str]], style: ParagraphStyle, widths: list[float]) -> Table:
    table = Table([[_p(c, style) for c in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf0")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _image(content: bytes) -> Image | None:
    try:
        reader = ImageReader(io.BytesIO(content))
        width, height = reader.getSize()
    except Exception:  # an image the PDF library cannot read is listed, not embedded
        return None
    scale = min(MAX_IMAGE_WIDTH / width, MAX_IMAGE_HEIGHT / height, 1.0)
    return Image(io.BytesIO(content), width=width * scale, height=height * scale)


def _at(value: Any, tz: ZoneInfo) -> str:
    """A stored time (an ISO string or an aware datetime) in the marketplace's zone, named."""
    if not value:
        return "—"
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = parse_aware(str(value))
        except ValueError:
            return str(value)
    return local_text(moment, tz)


def _dispute_line(item: dict[str, Any], tz: ZoneInfo) -> str:
    parts = [_("filed %(when)s") % {"when": _at(item.get("filed_at"), tz)}]
    if item.get("reason"):
        parts.append(_("reason: %(reason)s") % {"reason": code_label(item["reason"])})
    if item.get("amount"):
        parts.append(_("amount %(amount)s") % {"amount": item["amount"]})
    for decision in item.get("decisions") or []:
        parts.append(f"{code_label(decision.get('outcome'))} {_at(decision.get('at'), tz)}")
    return _(", ").join(parts)


def _facts(evidence: dict[str, Any], tz: ZoneInfo) -> list[list[str]]:
    """The frozen shipping, delivery, refund and dispute facts, each as a line of words."""
    facts: list[list[str]] = []
    shipping = [
        f"{_at(s.get('at'), tz)}: {s.get('carrier') or _('carrier not named')}"
        + (f" {s['service']}" if s.get("service") else "")
        + (
            _(", tracking %(number)s") % {"number": s["tracking_number"]}
            if s.get("tracking_number")
            else _(", no tracking")
        )
        for s in evidence.get("shipping") or []
    ]
    scans = [
        f"{_at(s.get('at'), tz)}: {code_label(s.get('status'))}"
        + (f", {s['location']}" if s.get("location") else "")
        for s in evidence.get("scans") or []
    ]
    refunds = [
        f"{_at(r.get('at'), tz)}: {r.get('amount')}"
        + (f" ({code_label(r['reason'])})" if r.get("reason") else "")
        + (
            _(", issued by the %(who)s") % {"who": code_label(r["initiated_by"])}
            if r.get("initiated_by")
            else ""
        )
        for r in evidence.get("refunds") or []
    ]
    for label, lines in (
        (_("Shipping"), shipping),
        (_("Carrier scans"), scans),
        (_("Refunds"), refunds),
    ):
        if lines:
            facts.append([label, "\n".join(lines)])
    for label, key in ((_("A-to-z Guarantee claims"), "claims"), (_("Chargebacks"), "chargebacks")):
        items = evidence.get(key) or []
        if items:
            facts.append([label, "\n".join(_dispute_line(i, tz) for i in items)])
    delivery = evidence.get("delivery")
    if delivery:
        signed = {True: _("signed for by the buyer"), False: _("no signature")}.get(
            delivery.get("signature"), _("signature not recorded")
        )
        line = _("Delivered %(when)s, %(signed)s") % {
            "when": _at(delivery.get("at"), tz),
            "signed": signed,
        }
        if delivery.get("proof_url"):
            line += _("; proof of delivery: %(url)s") % {"url": delivery["proof_url"]}
        facts.append([_("Delivery"), line])
    return facts


def _file_type(content_type: str) -> str:
    kind = content_type.split("/")[-1].upper()
    names = {"JPEG": _("JPEG image"), "PNG": _("PNG image"), "PDF": _("PDF document")}
    return names.get(kind, kind)


def _uses_cjk(appeal: Appeal, texts: list[str]) -> bool:
    """Whether the packet needs the Chinese font: a Chinese page, or Chinese anywhere in it."""
    return (get_language() or "").startswith("zh") or any(has_cjk(t) for t in texts if t)


class _Styles(NamedTuple):
    body: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    small: ParagraphStyle
    footer_font: str


def _styles(appeal: Appeal) -> _Styles:
    """The packet's paragraph styles, in a font that covers Chinese when its texts need one."""
    styles = getSampleStyleSheet()
    body, h1, h2 = styles["BodyText"], styles["Title"], styles["Heading2"]
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    texts = [appeal.explanation, appeal.seller.name, appeal.decision_note]
    texts += [m.body for m in appeal.messages.all()]
    texts += [f.original_name for f in appeal.files.all()]
    texts += [str(m.get("body")) for m in (appeal.system_evidence or {}).get("messages") or []]
    footer_font = "Helvetica"
    if _uses_cjk(appeal, texts):
        font, _embedded = cjk_font()
        footer_font = font
        # Chinese has no spaces between words: break lines between any two characters.
        for style in (body, h1, h2, small):
            style.fontName = font
            style.wordWrap = "CJK"
    return _Styles(body, h1, h2, small, footer_font)


def _seller_name(appeal: Appeal) -> str:
    return appeal.seller.name or appeal.seller.external_id


def _summary_story(appeal: Appeal, tz: ZoneInfo, st: _Styles) -> list[Any]:
    """The title, the table of who, where and what, and the seller's explanation."""
    defect = appeal.defect
    order = defect.order
    market = appeal.marketplace
    seller = appeal.seller
    reason = reason_lookup(defect.kind, appeal.reason)
    written = written_language(appeal.explanation)
    explanation_title = _("Explanation")
    if written and written != "en":
        explanation_title = _("Explanation (written in %(language)s, as the seller wrote it)") % {
            "language": written_language_name(written)
        }
    return [
        _p(
            _("Appeal #%(id)s: %(kind)s on order %(order)s")
            % {"id": appeal.pk, "kind": defect.get_kind_display(), "order": order.order_ref},
            st.h1,
        ),
        _table(
            [
                [
                    _("Seller"),
                    _("%(name)s (seller ID %(id)s)")
                    % {"name": _seller_name(appeal), "id": seller.external_id},
                ],
                [_("Marketplace"), f"{market.name or market.code} ({market.code})"],
                [_("Times"), _("in the marketplace's time zone, %(tz)s") % {"tz": market.timezone}],
                [_("Order"), order.order_ref],
                [
                    _("Defect"),
                    _("%(kind)s, counted from %(when)s; %(status)s")
                    % {
                        "kind": defect.get_kind_display(),
                        "when": _at(defect.opened_at, tz),
                        "status": in_sentence(defect.get_status_display()),
                    },
                ],
                [_("Reason"), str(reason.label) if reason else appeal.reason],
                [_("Status"), appeal.status_text],
                [
                    _("Submitted"),
                    _at(appeal.submitted_at, tz) if appeal.submitted_at else _("not yet"),
                ],
            ],
            st.small,
            [35 * mm, 135 * mm],
        ),
        Spacer(1, 6 * mm),
        _p(explanation_title, st.h2),
        _p(appeal.explanation, st.body),
    ]


def _replies_story(appeal: Appeal, tz: ZoneInfo, st: _Styles) -> list[Any]:
    """The information requests and the seller's replies, if there were any."""
    replies = list(appeal.messages.all())
    if not replies:
        return []
    return [
        _p(_("Information requests and replies"), st.h2),
        _table(
            [[_("When"), _("Who"), _("Message")]]
            + [[_at(m.created_at, tz), m.author_label, m.body] for m in replies],
            st.small,
            [45 * mm, 25 * mm, 100 * mm],
        ),
    ]


def _evidence_story(appeal: Appeal, tz: ZoneInfo, st: _Styles) -> list[Any]:
    """What the marketplace's records show: the order's timeline, shipping, delivery and
    refund facts, and the buyer's messages (the evidence saved with the appeal, or built now)."""
    evidence: dict[str, Any] = appeal.system_evidence or {}
    if not evidence.get("timeline"):
        state, events = order_state_of(appeal.defect)
        evidence = evidence_build(state, events)
    story: list[Any] = [_p(_("Order timeline (from the marketplace's records)"), st.h2)]
    timeline = evidence.get("timeline") or []
    story.append(
        _table(
            [[_("When"), _("Event"), _("Details")]]
            + [
                [_at(t.get("at"), tz), event_title(str(t.get("type"))), str(t.get("summary"))]
                for t in timeline
            ],
            st.small,
            [45 * mm, 35 * mm, 90 * mm],
        )
        if timeline
        else _p(_("No events."), st.body)
    )
    facts = _facts(evidence, tz)
    if facts:
        story += [
            _p(_("Shipping, delivery and refunds"), st.h2),
            _table([[_("Fact"), _("Detail")], *facts], st.small, [35 * mm, 135 * mm]),
        ]
    messages = evidence.get("messages") or []
    if messages:
        story += [
            _p(_("Buyer messages"), st.h2),
            _table(
                [[_("When"), _("From"), _("Message")]]
                + [
                    [
                        _at(m.get("at"), tz),
                        code_label(m.get("from")).capitalize(),
                        str(m.get("body")),
                    ]
                    for m in messages
                ],
                st.small,
                [45 * mm, 20 * mm, 105 * mm],
            ),
        ]
    return story


def _files_story(appeal: Appeal, st: _Styles) -> list[Any]:
    """The list of supporting files, then each image file shown."""
    files = list(appeal.files.all())
    story: list[Any] = [_p(_("Supporting files"), st.h2)]
    if not files:
        story.append(_p(_("None."), st.body))
    else:
        story.append(
            _table(
                [[_("File"), _("Type"), _("Size")]]
                + [
                    [f.original_name, _file_type(f.content_type), filesizeformat(f.size)]
                    for f in files
                ],
                st.small,
                [100 * mm, 40 * mm, 30 * mm],
            )
        )
    for item in files:
        if not item.is_image:
            continue
        picture = _image(evidence_read(item.storage_name))
        if picture is not None:
            story.append(
                KeepTogether([Spacer(1, 4 * mm), _p(item.original_name, st.small), picture])
            )
    return story


def _decision_story(appeal: Appeal, tz: ZoneInfo, st: _Styles) -> list[Any]:
    """The marketplace's decision, once there is one."""
    if appeal.decided_at is None:
        return []
    return [
        _p(_("Decision"), st.h2),
        _p(
            _("%(status)s on %(when)s, %(who)s.")
            % {
                "status": appeal.status_text,
                "when": _at(appeal.decided_at, tz),
                "who": appeal.decided_by_text,
            }
            + f" {appeal.decision_note}",
            st.body,
        ),
    ]


def _pdf(appeal: Appeal, story: list[Any], footer_font: str) -> bytes:
    """The story laid out on A4 pages, each with the appeal's footer and its page number."""
    seller_name = _seller_name(appeal)
    footer = _("%(seller)s · Appeal #%(id)s · order %(order)s") % {
        "seller": seller_name,
        "id": appeal.pk,
        "order": appeal.defect.order.order_ref,
    }
    page_text = _("Page %(n)s")

    def page_footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(footer_font, 8)
        canvas.setFillColor(colors.HexColor("#555f6a"))
        canvas.drawString(20 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, page_text % {"n": doc.page})
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=_("Appeal #%(id)s, %(seller)s") % {"id": appeal.pk, "seller": seller_name},
        author=seller_name,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    doc.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return out.getvalue()


def packet_render(appeal: Appeal) -> bytes:
    """The appeal packet as PDF bytes: a document a merchant can send as it is."""
    st = _styles(appeal)
    tz = zone(appeal.marketplace.timezone)
    story = _summary_story(appeal, tz, st)
    story += _replies_story(appeal, tz, st)
    story += _evidence_story(appeal, tz, st)
    story += _files_story(appeal, st)
    story += _decision_story(appeal, tz, st)
    return _pdf(appeal, story, st.footer_font)
