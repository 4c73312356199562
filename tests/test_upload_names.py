"""Session uploads check file names as sent, with the same rule as token uploads."""

from __future__ import annotations

from typing import Any

import pytest

from defectdesk.appeals.models import Appeal
from tests.test_appeal_support import client_for, frozen, media, png_bytes  # noqa: F401
from tests.test_web_support import EXPLANATION, shop

pytestmark = pytest.mark.usefixtures("media", "frozen")

BOUNDARY = "defectdesk-test-boundary"
BAD_NAMES = {
    "../evidence.png": "must not contain a path",
    "evi\x00dence.png": "NUL",
    "evidence\u202egnp.png": "direction-changing",
}


@pytest.mark.parametrize("name", list(BAD_NAMES))
def test_the_appeal_form_refuses_an_unsafe_file_name(cast: Any, make_event: Any, name: str) -> None:
    defect = shop(make_event)["feedback"]
    alice = client_for(cast["alice"])
    fields = {"reason": "product_review_only", "explanation": EXPLANATION, "action": "submit"}
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + png_bytes()
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    reply = alice.generic(
        "POST",
        f"/defects/{defect.pk}/appeal/",
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    page = reply.content.decode()
    assert BAD_NAMES[name] in page
    assert not Appeal.objects.exists()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims these dimensions (its pixel data is never read)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 6000), (100000, 100000)])
def test_an_image_over_the_pixel_limit_is_refused(db: Any, size: tuple[int, int]) -> None:
    from defectdesk.appeals.policy import appeal_rules_for
    from defectdesk.appeals.uploads import upload_check
    from defectdesk.core.errors import ValidationFailed

    rules = appeal_rules_for(0)
    with pytest.raises(ValidationFailed) as refused:
        upload_check("bomb.png", _png_header_only(*size), rules)
    assert "megapixels" in str(refused.value)


def test_an_image_within_the_pixel_limit_is_accepted(db: Any) -> None:
    from defectdesk.appeals.policy import appeal_rules_for
    from defectdesk.appeals.uploads import upload_check

    assert upload_check("ok.png", png_bytes(), appeal_rules_for(0)).content_type == "image/png"
