"""DefectDesk's Order Defect Rate over Amazon's own reporting window, beside Amazon's number
from its account health report, and each difference with its cause."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Min, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Order
from defectdesk.mirror.models import HealthSnapshot, MirrorAccount
from defectdesk.mirror.reports import _day

ODR_KINDS = (Defect.Kind.NEGATIVE_FEEDBACK, Defect.Kind.A_TO_Z_CLAIM, Defect.Kind.CHARGEBACK)
CHANNELS = {"mfn": "merchant", "afn": "marketplace"}
PARTS = ("orders", "orders_with_defects", "negative_feedback", "a_to_z_claim", "chargeback")


@dataclass
class Side:
    orders: int = 0
    orders_with_defects: int = 0
    negative_feedback: int = 0
    a_to_z_claim: int = 0
    chargeback: int = 0

    @property
    def rate(self) -> float | None:
        return self.orders_with_defects / self.orders if self.orders else None


@dataclass
class Channel:
    """One fulfilment channel: Amazon's counts, ours, and why they differ."""

    channel: str  # "mfn" or "afn"
    window: tuple[date, date]
    amazon: Side
    ours: Side
    amazon_rate: float | None
    differences: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return not self.differences


@dataclass
class Reconciliation:
    snapshot: HealthSnapshot | None
    channels: list[Channel]
    history_from: date | None
    first_import: datetime | None
    notes: list[str]


def _count(value: Any) -> int:
    if isinstance(value, dict):
        value = value.get("count")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def amazon_side(odr: dict[str, Any]) -> Side:
    """Amazon's counts from one channel of the report's `orderDefectRate`."""
    return Side(
        orders=_count(odr.get("orderCount")),
        orders_with_defects=_count(odr.get("orderWithDefects")),
        negative_feedback=_count(odr.get("negativeFeedback")),
        a_to_z_claim=_count(odr.get("claims")),
        chargeback=_count(odr.get("chargebacks")),
    )


def our_side(account: MirrorAccount, channel: str, window: tuple[date, date], at: datetime) -> Side:
    """Our counts over the same order dates, with the defects active at the report's time."""
    orders = Order.objects.filter(
        seller_id=account.seller_id,
        marketplace_id=account.marketplace_id,
        fulfillment=CHANNELS[channel],
        order_date__gte=window[0],
        order_date__lte=window[1],
    )
    defects = Defect.objects.filter(order__in=orders, kind__in=ODR_KINDS, opened_at__lt=at).filter(
        Q(removed_at__isnull=True) | Q(removed_at__gte=at)
    )
    by_kind = {
        kind: defects.filter(kind=kind).values("order_id").distinct().count() for kind in ODR_KINDS
    }
    return Side(
        orders=orders.count(),
        orders_with_defects=defects.values("order_id").distinct().count(),
        negative_feedback=by_kind[Defect.Kind.NEGATIVE_FEEDBACK],
        a_to_z_claim=by_kind[Defect.Kind.A_TO_Z_CLAIM],
        chargeback=by_kind[Defect.Kind.CHARGEBACK],
    )


# The counts besides orders on which Amazon and the data may disagree: for each, what the
# difference most likely means when Amazon counts more, and when it counts fewer.
_GAPS = {
    "a_to_z_claim": (
        ngettext_lazy(
            "%(n)d A-to-z claim is not in your data: Amazon's finances show a claim only when "
            "it is granted and debited to you; a claim still open, or decided without a "
            "debit, is in no report. Enter it from Amazon's e-mail.",
            "%(n)d A-to-z claims are not in your data: Amazon's finances show a claim only "
            "when it is granted and debited to you; claims still open, or decided without a "
            "debit, are in no report. Enter them from Amazon's e-mails.",
            "n",
        ),
        ngettext_lazy(
            "%(n)d A-to-z claim in your data is not counted by Amazon (withdrawn or decided in "
            "your favour since): record Amazon's decision on it.",
            "%(n)d A-to-z claims in your data are not counted by Amazon (withdrawn or decided "
            "in your favour since): record Amazon's decisions on them.",
            "n",
        ),
    ),
    "chargeback": (
        ngettext_lazy(
            "%(n)d chargeback is not in your data: only a lost chargeback reaches Amazon's "
            "finances; an open one is in no report. Enter it from Amazon's e-mail.",
            "%(n)d chargebacks are not in your data: only a lost chargeback reaches Amazon's "
            "finances; open ones are in no report. Enter them from Amazon's e-mails.",
            "n",
        ),
        ngettext_lazy(
            "%(n)d chargeback in your data is not counted by Amazon (won on representment "
            "since): record Amazon's decision.",
            "%(n)d chargebacks in your data are not counted by Amazon (won on representment "
            "since): record Amazon's decisions.",
            "n",
        ),
    ),
    "negative_feedback": (
        ngettext_lazy(
            "%(n)d negative feedback is not in your data: import the seller feedback report "
            "covering %(from)s to %(to)s.",
            "%(n)d negative feedback are not in your data: import the seller feedback report "
            "covering %(from)s to %(to)s.",
            "n",
        ),
        ngettext_lazy(
            "%(n)d negative feedback in your data is not counted by Amazon (removed since): "
            "import a newer feedback report, which shows the removal.",
            "%(n)d negative feedback in your data are not counted by Amazon (removed since): "
            "import a newer feedback report, which shows the removals.",
            "n",
        ),
    ),
}


def differences(
    amazon: Side, ours: Side, window: tuple[date, date], data_from: date | None
) -> list[str]:
    """Each count that differs, with the reason it most likely does (pure)."""
    out: list[str] = []
    gap = amazon.orders - ours.orders
    if gap > 0:
        if data_from is None or data_from > window[0]:
            start = data_from.isoformat() if data_from else _("nowhere yet")
            out.append(
                ngettext(
                    "%(n)d order of Amazon's window is not in your data: your orders start "
                    "%(start)s; import the all-orders report from %(from)s to %(to)s.",
                    "%(n)d orders of Amazon's window are not in your data: your orders start "
                    "%(start)s; import the all-orders report from %(from)s to %(to)s.",
                    gap,
                )
                % {"n": gap, "start": start, "from": window[0], "to": window[1]}
            )
        else:
            out.append(
                ngettext(
                    "%(n)d order Amazon counts is not in your data: import the all-orders report "
                    "from %(from)s to %(to)s again (it may have been cut short).",
                    "%(n)d orders Amazon counts are not in your data: import the all-orders report "
                    "from %(from)s to %(to)s again (it may have been cut short).",
                    gap,
                )
                % {"n": gap, "from": window[0], "to": window[1]}
            )
    elif gap < 0:
        out.append(
            ngettext(
                "%(n)d order in your data is not counted by Amazon (Amazon leaves out orders "
                "cancelled before payment and orders of other sales channels).",
                "%(n)d orders in your data are not counted by Amazon (Amazon leaves out orders "
                "cancelled before payment and orders of other sales channels).",
                -gap,
            )
            % {"n": -gap}
        )
    for name, count_gap in (
        ("a_to_z_claim", amazon.a_to_z_claim - ours.a_to_z_claim),
        ("chargeback", amazon.chargeback - ours.chargeback),
        ("negative_feedback", amazon.negative_feedback - ours.negative_feedback),
    ):
        if count_gap:
            missing, extra = _GAPS[name]
            message = missing if count_gap > 0 else extra
            out.append(message % {"n": abs(count_gap), "from": window[0], "to": window[1]})
    if not out and amazon.orders_with_defects != ours.orders_with_defects:
        out.append(
            _(
                "Orders with a defect differ (%(amazon)d at Amazon, %(ours)d here) although each "
                "kind matches: one order carries defects of two kinds on one side only."
            )
            % {"amazon": amazon.orders_with_defects, "ours": ours.orders_with_defects}
        )
    return out


def reconciliation_for(account: MirrorAccount) -> Reconciliation:
    """The latest snapshot's ODR beside ours, channel by channel."""
    snapshot = HealthSnapshot.objects.filter(account=account).select_related("document").first()
    data_from = Order.objects.filter(
        seller_id=account.seller_id, marketplace_id=account.marketplace_id
    ).aggregate(first=Min("order_date"))["first"]
    notes = []
    if account.first_import_at is not None:
        notes.append(
            _(
                "Your history here starts with your first import (%(day)s) and the orders it "
                "brought, from %(first)s; Amazon keeps no history of its own numbers, so earlier "
                "days cannot be compared."
            )
            % {
                "day": account.first_import_at.date().isoformat(),
                "first": data_from.isoformat() if data_from else "-",
            }
        )
    channels: list[Channel] = []
    if snapshot is not None:
        odr = (snapshot.metrics or {}).get("orderDefectRate") or {}
        for key in ("mfn", "afn"):
            part = odr.get(key)
            if not isinstance(part, dict):
                continue
            span = part.get("reportingDateRange") or {}
            start = _day(str(span.get("reportingDateFrom", "")), "ymd")
            end = _day(str(span.get("reportingDateTo", "")), "ymd")
            if start is None or end is None:
                continue
            amazon = amazon_side(part)
            ours = our_side(account, key, (start, end), snapshot.received_at)
            rate = part.get("rate")
            channels.append(
                Channel(
                    key,
                    (start, end),
                    amazon,
                    ours,
                    float(rate) if isinstance(rate, int | float) else None,
                    differences(amazon, ours, (start, end), data_from),
                )
            )
        if not channels:
            notes.append(_("The account health report has no Order Defect Rate to compare."))
    return Reconciliation(snapshot, channels, data_from, account.first_import_at, notes)
