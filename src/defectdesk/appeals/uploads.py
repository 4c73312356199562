"""Checks on a merchant's supporting file: its name, size and type sniffed from its content."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.http import HttpResponseBase
from PIL import Image

from defectdesk.appeals.rules_policy import AppealRules
from defectdesk.core.errors import FieldError, TooLarge, ValidationFailed

MAX_NAME = 200
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/webp": ("webp",),
    "text/plain": ("txt", "text", "log", "csv"),
}
STORED_EXTENSION = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "text/plain": "txt",
}
_MARKUP = re.compile(rb"<\s*(!doctype|html|svg|script|body|head|iframe|\?xml)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CheckedFile:
    name: str
    content: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def extension(self) -> str:
        return STORED_EXTENSION[self.content_type]


def served_file_guard(response: HttpResponseBase) -> None:
    """Serve a merchant's file as data: never sniffed into another type, never run as a page,
    never kept by a shared cache."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("The file was not accepted.", [FieldError(field, message)])


def filename_check(name: str, field: str = "file") -> str:
    """The merchant's file name if it is a plain, short name; otherwise a 422 naming why."""
    if not name or not name.strip():
        raise _refuse(field, "the file has no name")
    if "\x00" in name:
        raise _refuse(field, "the file name contains a NUL character")
    if "\r" in name or "\n" in name:
        raise _refuse(field, "the file name contains a line break")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise _refuse(field, "the file name contains control characters")
    if any(unicodedata.category(ch) == "Cf" for ch in name):
        raise _refuse(field, "the file name contains invisible or direction-changing characters")
    if "/" in name or "\\" in name or name.strip() in (".", "..") or ".." in name:
        raise _refuse(field, "the file name must not contain a path (/, \\ or ..)")
    if len(name) > MAX_NAME:
        raise _refuse(
            field, f"the file name is {len(name)} characters long; the limit is {MAX_NAME}"
        )
    return name.strip()


def sniff(content: bytes) -> str | None:
    """The content type by the file's own bytes, or None when it is none we accept."""
    kind = filetype.guess(content)
    if kind is not None:
        return kind.mime if kind.mime in EXTENSIONS else None
    if b"\x00" in content[:8192]:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _MARKUP.search(content[:65536]) or text.lstrip().startswith("<"):
        return None
    return "text/plain"


def image_size(content: bytes) -> tuple[int, int] | None:
    """An image's width and height read from its header (no pixels decoded), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                return image.size
    except Image.DecompressionBombError:
        return (Image.MAX_IMAGE_PIXELS or 0) * 2 + 1, 1
    except (OSError, ValueError, SyntaxError):
        return None


def _pixels_check(name: str, content: bytes, field: str) -> None:
    """Refuse an image whose pixel count would overwhelm a reviewer's browser."""
    limit = settings.UPLOAD_MAX_IMAGE_PIXELS
    size = image_size(content)
    if size is None:
        raise _refuse(field, f"{name!r} is not a readable image")
    width, height = size
    if width * height > limit:
        raise _refuse(
            field,
            f"{name!r} is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"images may have at most {limit / 1e6:g} megapixels",
        )


def upload_check(name: str, content: bytes, rules: AppealRules, field: str = "file") -> CheckedFile:
    """Accept a supporting file or refuse it with a message naming what is wrong."""
    clean = filename_check(name, field)
    if not content:
        raise _refuse(field, f"{clean!r} is empty (0 bytes)")
    if len(content) > rules.max_file_bytes:
        mb = rules.max_file_bytes / (1024 * 1024)
        raise TooLarge(
            f"{clean!r} is {len(content) / (1024 * 1024):.1f} MB; each file may be at "
            f"most {mb:g} MB."
        )
    detected = sniff(content)
    allowed = ", ".join(sorted({STORED_EXTENSION[t].upper() for t in rules.allowed_types}))
    if detected is None or detected not in rules.allowed_types:
        raise _refuse(
            field,
            f"{clean!r} is not an accepted file type (accepted: {allowed}); "
            "the type is read from the content, not the name",
        )
    if detected.startswith("image/"):
        _pixels_check(clean, content, field)
    ext = clean.rsplit(".", 1)[-1].lower() if "." in clean else ""
    if ext not in EXTENSIONS[detected]:
        raise _refuse(
            field,
            f"{clean!r} is named as {ext.upper() or 'no type'} but its content "
            f"is {STORED_EXTENSION[detected].upper()}",
        )
    return CheckedFile(clean, content, detected, hashlib.sha256(content).hexdigest())
