"""Money: a Decimal amount and a currency code, never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")


def parse_amount(value: object) -> Decimal:
    """A decimal string such as "19.99" as a Decimal; anything else raises ValueError."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not _AMOUNT.match(value.strip()):
        raise ValueError('must be a decimal string such as "19.99"')
    try:
        return Decimal(value.strip())
    except InvalidOperation as exc:  # pragma: no cover - guarded by the pattern
        raise ValueError('must be a decimal string such as "19.99"') from exc
