"""CSV cells that a spreadsheet will not run as a formula (pure)."""

from __future__ import annotations

import unicodedata

# A cell starting with one of these is read as a formula (or hides one) by spreadsheets.
_TRIGGERS = ("=", "+", "-", "@", "|", "%")


def _first_meaningful(text: str) -> str:
    """The first character a spreadsheet looks at: past spaces and invisible characters, and in
    its compatibility form (a full-width equals sign is an "=")."""
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs"):
            if ord(char) < 32 or ord(char) == 127:
                return char
            continue
        return unicodedata.normalize("NFKC", char)[:1]
    return ""


def csv_cell(value: object) -> str:
    """The value as text, prefixed with an apostrophe when it could start a formula."""
    if value is None:
        return ""
    text = str(value)
    first = _first_meaningful(text)
    if first and (first.startswith(_TRIGGERS) or ord(first) < 32 or ord(first) == 127):
        return "'" + text
    return text
