"""Argument types for the process commands, with messages that say what is expected."""

from __future__ import annotations

import math
from argparse import ArgumentTypeError


def positive_int(value: str) -> int:
    """A whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        raise ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}") from None
    if number < 1:
        raise ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return number


def seconds(value: str) -> float:
    """A finite number of seconds, zero or more."""
    try:
        number = float(value)
    except ValueError:
        raise ArgumentTypeError(f"must be a number of seconds, not {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ArgumentTypeError(f"must be a number of seconds, zero or more, not {value!r}")
    return number
