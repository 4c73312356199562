"""The merchants' terms in English and Simplified Chinese (the product's glossary page).

The same table is docs/glossary.md; the Chinese catalogue (locale/zh_Hans) uses these words.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# (English, 简体中文, what it means). Shown side by side in every language.
GLOSSARY: tuple[tuple[str, str, Promise], ...] = (
    (
        "Account health",
        "账户状况",
        _("The seller's metrics against their targets; 账户健康 in some guides."),
    ),
    (
        "Order Defect Rate (ODR)",
        "订单缺陷率",
        _(
            "Orders with negative feedback, an A-to-z claim or a chargeback, out of all "
            "orders; target under 1%."
        ),
    ),
    (
        "Late shipment rate",
        "迟发率",
        _("Orders shipped after their ship-by date; target under 4%."),
    ),
    (
        "Pre-fulfilment cancel rate",
        "配送前取消率",
        _("Orders the seller cancelled before shipping; target under 2.5%."),
    ),
    (
        "Valid tracking rate",
        "有效追踪率",
        _("Shipments with a tracking number the carrier scanned; target over 95%."),
    ),
    (
        "On-time delivery rate",
        "准时送达率",
        _("Tracked orders delivered by their deliver-by date; target over 90%."),
    ),
    ("Refund rate", "退款率", _("Orders with a refund; target under 5%.")),
    (
        "Contact response rate",
        "联系回复率",
        _("Buyer messages answered within 24 hours; target over 90%."),
    ),
    ("Problem orders", "问题订单", _("Orders with at least one active defect.")),
    ("Defect", "缺陷", _("A fact about an order that counts against a metric.")),
    ("Negative feedback", "差评", _("Feedback rated 1 or 2 stars.")),
    (
        "A-to-z Guarantee claim",
        "A-to-z 索赔",
        _("A claim the buyer files under the marketplace's guarantee."),
    ),
    (
        "Chargeback",
        "信用卡拒付",
        _("A payment dispute the buyer opens with the card issuer; 拒付 for short."),
    ),
    (
        "Appeal",
        "申诉",
        _("The seller's request to remove a defect, with an explanation and files."),
    ),
    ("Explanation", "申诉说明", _("What the seller writes in the appeal.")),
    (
        "Supporting files",
        "证明文件",
        _("Invoices, tracking records, photos attached to an appeal."),
    ),
    ("Information request", "补充材料请求", _("A reviewer's question; answer within 72 hours.")),
    ("Ship-by date", "最晚发货日期", _("The last moment to ship without a late shipment.")),
    ("Deliver-by date", "最晚送达日期", _("The last moment to deliver without a late delivery.")),
    ("Marketplace", "站点", _("Where the seller sells, with its time zone, currency and rules.")),
    ("Reviewer", "审核员", _("Marketplace staff who decide appeals.")),
    (
        "Appeal packet",
        "申诉材料包",
        _("The PDF of an appeal: defect, order timeline, explanation and files."),
    ),
)
