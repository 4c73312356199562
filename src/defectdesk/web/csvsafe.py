"""CSV cells that a spreadsheet will not run as a formula (pure)."""

from __future__ import annotations

# A cell starting with one of these is read as a formula (or hides one) by spreadsheets.
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def csv_cell(value: object) -> str:
    """The value as text, prefixed with an apostrophe when it could start a formula."""
    if value is None:
        return ""
    text = str(value)
    if text and (text.startswith(_TRIGGERS) or ord(text[0]) < 32 or ord(text[0]) == 127):
        return "'" + text
    return text
