"""The appeal packet: a PDF with the defect, order timeline, explanation, evidence and images."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape  # nosec B406 # escapes text for ReportLab markup, parses no XML
from zoneinfo import ZoneInfo

from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
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
from defectdesk.appeals.models import Appeal
from defectdesk.appeals.reasons import reason_lookup
from defectdesk.appeals.selectors import order_state_of
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
    parts = [f"filed {_at(item.get('filed_at'), tz)}"]
    if item.get("reason"):
        parts.append(f"reason: {code_label(item['reason'])}")
    if item.get("amount"):
        parts.append(f"amount {item['amount']}")
    for decision in item.get("decisions") or []:
        parts.append(f"{code_label(decision.get('outcome'))} {_at(decision.get('at'), tz)}")
    return ", ".join(parts)


def _facts(evidence: dict[str, Any], tz: ZoneInfo) -> list[list[str]]:
    """The frozen shipping, delivery, refund and dispute facts, each as a line of words."""
    facts: list[list[str]] = []
    shipping = [
        f"{_at(s.get('at'), tz)}: {s.get('carrier') or 'carrier not named'}"
        + (f" {s['service']}" if s.get("service") else "")
        + (f", tracking {s['tracking_number']}" if s.get("tracking_number") else ", no tracking")
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
        + (f", issued by the {code_label(r['initiated_by'])}" if r.get("initiated_by") else "")
        for r in evidence.get("refunds") or []
    ]
    for label, lines in (("Shipping", shipping), ("Carrier scans", scans), ("Refunds", refunds)):
        if lines:
            facts.append([label, "\n".join(lines)])
    for label, key in (("A-to-z Guarantee claims", "claims"), ("Chargebacks", "chargebacks")):
        items = evidence.get(key) or []
        if items:
            facts.append([label, "\n".join(_dispute_line(i, tz) for i in items)])
    delivery = evidence.get("delivery")
    if delivery:
        signed = {True: "signed for by the buyer", False: "no signature"}.get(
            delivery.get("signature"), "signature not recorded"
        )
        line = f"Delivered {_at(delivery.get('at'), tz)}, {signed}"
        if delivery.get("proof_url"):
            line += f"; proof of delivery: {delivery['proof_url']}"
        facts.append(["Delivery", line])
    return facts


def _file_type(content_type: str) -> str:
    kind = content_type.split("/")[-1].upper()
    return {"JPEG": "JPEG image", "PNG": "PNG image", "PDF": "PDF document"}.get(kind, kind)


def packet_render(appeal: Appeal) -> bytes:
    """The appeal packet as PDF bytes: a document a merchant can send as it is."""
    styles = getSampleStyleSheet()
    body, h1, h2 = styles["BodyText"], styles["Title"], styles["Heading2"]
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    defect = appeal.defect
    order = defect.order
    market = appeal.marketplace
    tz = zone(market.timezone)
    seller = appeal.seller
    seller_name = seller.name or seller.external_id
    reason = reason_lookup(defect.kind, appeal.reason)
    evidence: dict[str, Any] = appeal.system_evidence or {}
    if not evidence.get("timeline"):
        state, events = order_state_of(defect)
        evidence = evidence_build(state, events)
    story: list[Any] = [
        _p(f"Appeal #{appeal.pk}: {defect.get_kind_display()} on order {order.order_ref}", h1),
        _table(
            [
                ["Seller", f"{seller_name} (seller ID {seller.external_id})"],
                ["Marketplace", f"{market.name or market.code} ({market.code})"],
                ["Times", f"in the marketplace's time zone, {market.timezone}"],
                ["Order", order.order_ref],
                [
                    "Defect",
                    f"{defect.get_kind_display()}, counted from {_at(defect.opened_at, tz)}; "
                    f"{defect.get_status_display().lower()}",
                ],
                ["Reason", reason.label if reason else appeal.reason],
                ["Status", appeal.status_text],
                ["Submitted", _at(appeal.submitted_at, tz) if appeal.submitted_at else "not yet"],
            ],
            small,
            [35 * mm, 135 * mm],
        ),
        Spacer(1, 6 * mm),
        _p("Explanation", h2),
        _p(appeal.explanation, body),
    ]
    replies = list(appeal.messages.all())
    if replies:
        story.append(_p("Information requests and replies", h2))
        story.append(
            _table(
                [["When", "Who", "Message"]]
                + [[_at(m.created_at, tz), m.author_label, m.body] for m in replies],
                small,
                [45 * mm, 25 * mm, 100 * mm],
            )
        )
    story.append(_p("Order timeline (from the marketplace's records)", h2))
    timeline = evidence.get("timeline") or []
    story.append(
        _table(
            [["When", "Event", "Details"]]
            + [
                [_at(t.get("at"), tz), event_title(str(t.get("type"))), str(t.get("summary"))]
                for t in timeline
            ],
            small,
            [45 * mm, 35 * mm, 90 * mm],
        )
        if timeline
        else _p("No events.", body)
    )
    facts = _facts(evidence, tz)
    if facts:
        story += [
            _p("Shipping, delivery and refunds", h2),
            _table([["Fact", "Detail"], *facts], small, [35 * mm, 135 * mm]),
        ]
    messages = evidence.get("messages") or []
    if messages:
        story += [
            _p("Buyer messages", h2),
            _table(
                [["When", "From", "Message"]]
                + [
                    [
                        _at(m.get("at"), tz),
                        code_label(m.get("from")).capitalize(),
                        str(m.get("body")),
                    ]
                    for m in messages
                ],
                small,
                [45 * mm, 20 * mm, 105 * mm],
            ),
        ]
    files = list(appeal.files.all())
    story.append(_p("Supporting files", h2))
    if not files:
        story.append(_p("None.", body))
    else:
        story.append(
            _table(
                [["File", "Type", "Size"]]
                + [
                    [f.original_name, _file_type(f.content_type), filesizeformat(f.size)]
                    for f in files
                ],
                small,
                [100 * mm, 40 * mm, 30 * mm],
            )
        )
    for item in files:
        if not item.is_image:
            continue
        with default_storage.open(item.storage_name, "rb") as handle:
            picture = _image(handle.read())
        if picture is not None:
            story.append(KeepTogether([Spacer(1, 4 * mm), _p(item.original_name, small), picture]))
    if appeal.decided_at is not None:
        story += [
            _p("Decision", h2),
            _p(
                f"{appeal.status_text} on {_at(appeal.decided_at, tz)}, "
                f"{appeal.decided_by_text}. {appeal.decision_note}",
                body,
            ),
        ]
    footer = f"{seller_name} · Appeal #{appeal.pk} · order {order.order_ref}"

    def page_footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#555f6a"))
        canvas.drawString(20 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Appeal #{appeal.pk}, {seller_name}",
        author=seller_name,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    doc.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return out.getvalue()
