"""Read Amazon's notification e-mail (pasted by the merchant) into the entry form's fields:
what it is about, the order, the reason, the deadline and Amazon's reference (pure)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ORDER = re.compile(r"\b([0-9]{3}-[0-9]{7}-[0-9]{7})\b")
MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_MONTH = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
DEADLINE_WORDS = (
    r"(?:respond|reply|answer|provide|submit|send)[^.\n]{0,60}?(?:by|before|no later than)"
)
REFERENCE = re.compile(
    r"\b(?:claim|case|chargeback|dispute)\s*(?:id|number|#)\s*[:#]?\s*([A-Za-z0-9-]{4,40})",
    re.IGNORECASE,
)
REASONS = (
    ("fraud", re.compile(r"unauthori[sz]ed|fraud", re.I)),
    ("unrecognized", re.compile(r"unrecogni[sz]ed|does not recogni", re.I)),
    ("duplicate", re.compile(r"duplicate|charged twice", re.I)),
    (
        "return_not_refunded",
        re.compile(r"return\w*[^.\n]{0,60}refund|refund[^.\n]{0,60}return", re.I),
    ),
    (
        "not_received",
        re.compile(
            r"not received|did not receive|didn't receive|never (arrived|received)|non-?delivery",
            re.I,
        ),
    ),
    (
        "not_as_described",
        re.compile(r"not as described|materially different|damaged|defective|wrong item", re.I),
    ),
)


def _date(year: str | int, month: str | int, day: str | int) -> date | None:
    """The date, None when there is no such day (a 31 April)."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _month_day(text: str) -> date | None:
    """The first date written in the notice: "March 5, 2026" (or "Mar. 5 2026"), 2026-03-05
    or 3/5/2026 (US order), in that order of preference."""
    found = re.search(_MONTH + r"\s+(\d{1,2}),?\s+(\d{4})", text, re.IGNORECASE)
    if found:
        month = MONTHS.get(found[1].lower().rstrip("."))
        if month is None:
            month = next(i for n, i in MONTHS.items() if n.startswith(found[1].lower()[:3]))
        return _date(found[3], month, found[2])
    found = re.search(r"(\d{4})-(\d{2})-(\d{2})", text)
    if found:
        return _date(found[1], found[2], found[3])
    found = re.search(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if found:
        return _date(found[3], found[1], found[2])
    return None


def notice_read(text: str, *, received: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """The fields an Amazon notification gives; a field it does not give is left out."""
    text = text.replace("\r\n", "\n")[:50_000]
    low = text.lower()
    found: dict[str, Any] = {}
    if re.search(r"(more|additional) information|information request", low):
        found["kind"] = "info_request"
    elif "chargeback" in low:
        found["kind"] = "chargeback"
    elif re.search(r"a-to-z|a to z|guarantee claim", low):
        found["kind"] = "a_to_z_claim"
    order = ORDER.search(text)
    if order:
        found["order"] = order[1]
    for code, pattern in REASONS:
        if pattern.search(text):
            if code in ("fraud", "unrecognized", "duplicate") and found.get("kind") != "chargeback":
                continue
            found["reason"] = code
            break
    else:
        if found.get("kind") in ("a_to_z_claim", "chargeback"):
            found["reason"] = "other"
    deadline: date | None = None
    phrase = re.search(DEADLINE_WORDS + r"([^\n]{0,60})", text, re.IGNORECASE)
    if phrase:
        deadline = _month_day(phrase[1])
    if deadline is None:
        within = re.search(r"within\s+(\d{1,3})\s+(day|hour)s?", low)
        if within:
            amount = int(within[1])
            delta = timedelta(days=amount) if within[2] == "day" else timedelta(hours=amount)
            found["deadline"] = (received + delta).astimezone(tz).replace(second=0, microsecond=0)
    if deadline is not None:
        found["deadline"] = datetime.combine(deadline, time(23, 59), tzinfo=tz)
    reference = REFERENCE.search(text)
    if reference:
        found["reference"] = reference[1]
    return found
