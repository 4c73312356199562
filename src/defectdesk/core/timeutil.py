"""Calendar days in a marketplace's time zone and the windows built from them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; raises ValueError for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local calendar day, in UTC."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The exclusive end of a local calendar day (the start of the next), in UTC."""
    return day_start(day + timedelta(days=1), tz)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The local calendar date of an aware instant."""
    return moment.astimezone(tz).date()


def parse_aware(value: str) -> datetime:
    """An ISO-8601 time with an offset; a naive time raises ValueError."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must carry a UTC offset (a naive time is ambiguous)")
    return moment


def iso_text(moment: datetime | None) -> str | None:
    """An instant in ISO 8601 as the API writes it, "Z" for a UTC offset of 0; None stays None."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def local_text(moment: datetime, tz: ZoneInfo) -> str:
    """An instant as people read it, zone named: "3 Dec 2026, 16:05 PST (America/Los_Angeles)",
    or in Chinese "2026年12月3日 16:05 PST（America/Los_Angeles）" (the active language)."""
    from django.utils.translation import get_language

    local = moment.astimezone(tz)
    if (get_language() or "").startswith("zh"):
        return (
            f"{local.year}年{local.month}月{local.day}日 {local:%H:%M} {local.tzname()}（{tz.key}）"
        )
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()} ({tz.key})"
