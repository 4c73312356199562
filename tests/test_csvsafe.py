"""CSV cells never start a formula, whatever hides the formula's first character."""

from __future__ import annotations

import pytest

from defectdesk.web.csvsafe import csv_cell


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        " =1+1",
        "   +1",
        "\u3000=1+1",
        "\uff1d1+1",
        "\uff0b1",
        "\uff0d1",
        "\uff201",
        "\u200b=1+1",
        "\u202e=1+1",
        "\t=1",
        "\r=1",
        "\n=1",
        "\x00=1",
        "-2",
        "@SUM(A1)",
    ],
)
def test_formula_starters_are_neutralised(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Mug", "1ZTRACK", " mug", "", "B-9", "\uff11\uff12"])
def test_plain_text_is_unchanged(text: str) -> None:
    assert csv_cell(text) == text
