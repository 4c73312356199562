"""Reading event files: lines split in any chunking, and over-long lines never held."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from defectdesk.ledger.sources import _lines


@given(
    lengths=st.lists(st.sampled_from([0, 1, 5, 9, 10, 11, 30]), max_size=8),
    final_newline=st.booleans(),
    chunk=st.sampled_from([1, 2, 3, 7, 16, 1 << 20]),
)
def test_lines_are_split_the_same_whatever_the_chunk_size(
    lengths: list[int], final_newline: bool, chunk: int
) -> None:
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final_newline and lengths else b"")
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    got = list(_lines(io.BytesIO(data), 10, chunk))
    assert got == [None if len(line) > 10 else line for line in expected]
