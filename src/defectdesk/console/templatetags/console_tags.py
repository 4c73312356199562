"""Template helpers of the console: percentages, durations, evidence times, lookups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from defectdesk.console.explain import percent

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    return percent(value)


@register.filter
def hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} h"


@register.filter
def isotime(value: Any) -> str:
    """An ISO-8601 time from frozen evidence, shown in the viewer's zone ("—" when absent)."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return str(value)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "") if isinstance(mapping, dict) else ""
