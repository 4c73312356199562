"""The appeal packet: a PDF with the defect, order timeline, explanation, evidence and images."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.core.files.storage import default_storage
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
from defectdesk.appeals.transitions import Status

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


def packet_render(appeal: Appeal) -> bytes:
    """The appeal packet as PDF bytes."""
    styles = getSampleStyleSheet()
    body, h1, h2 = styles["BodyText"], styles["Title"], styles["Heading2"]
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    defect = appeal.defect
    order = defect.order
    reason = reason_lookup(defect.kind, appeal.reason)
    evidence: dict[str, Any] = appeal.system_evidence or {}
    if not evidence.get("timeline"):
        state, events = order_state_of(defect)
        evidence = evidence_build(state, events)
    story: list[Any] = [
        _p(f"Appeal {appeal.pk}", h1),
        _table(
            [
                ["Seller", appeal.seller.external_id],
                ["Marketplace", appeal.marketplace.code],
                ["Order", order.order_ref],
                [
                    "Defect",
                    f"{defect.get_kind_display()} (id {defect.pk}), opened "
                    f"{defect.opened_at:%Y-%m-%d %H:%M} UTC, {defect.status}",
                ],
                ["Reason", reason.label if reason else appeal.reason],
                ["Status", Status(appeal.status).label],
                [
                    "Submitted",
                    f"{appeal.submitted_at:%Y-%m-%d %H:%M} UTC"
                    if appeal.submitted_at
                    else "not yet",
                ],
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
                + [[f"{m.created_at:%Y-%m-%d %H:%M}", m.author_label, m.body] for m in replies],
                small,
                [30 * mm, 30 * mm, 110 * mm],
            )
        )
    story.append(_p("Order timeline (system evidence)", h2))
    timeline = evidence.get("timeline") or []
    story.append(
        _table(
            [["When (UTC)", "Event", "Details"]]
            + [
                [str(t.get("at") or ""), str(t.get("type")), str(t.get("summary"))]
                for t in timeline
            ],
            small,
            [40 * mm, 35 * mm, 95 * mm],
        )
        if timeline
        else _p("No events.", body)
    )
    facts = []
    for label, key in (
        ("Shipping", "shipping"),
        ("Carrier scans", "scans"),
        ("Refunds", "refunds"),
        ("A-to-z claims", "claims"),
        ("Chargebacks", "chargebacks"),
    ):
        items = evidence.get(key) or []
        if items:
            facts.append(
                [
                    label,
                    "; ".join(
                        ", ".join(f"{k}: {v}" for k, v in item.items() if v not in (None, "", []))
                        for item in items
                    ),
                ]
            )
    delivery = evidence.get("delivery")
    if delivery:
        facts.append(
            [
                "Delivery proof",
                ", ".join(f"{k}: {v}" for k, v in delivery.items() if v not in (None, "")),
            ]
        )
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
                [["When (UTC)", "From", "Message"]]
                + [[str(m.get("at")), str(m.get("from")), str(m.get("body"))] for m in messages],
                small,
                [40 * mm, 20 * mm, 110 * mm],
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
                + [[f.original_name, f.content_type, f"{f.size:,} bytes"] for f in files],
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
                f"{Status(appeal.status).label} on {appeal.decided_at:%Y-%m-%d %H:%M} UTC by "
                f"{appeal.decided_by_label}. {appeal.decision_note}",
                body,
            ),
        ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Appeal {appeal.pk}",
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    doc.build(story)
    return out.getvalue()
