"""The file names a multipart request's client sent, before Django rewrites them."""

from __future__ import annotations

import html
from typing import Any

from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser


class _NameRecordingParser(MultiPartParser):
    """Django's parser, noting each file name as sent before it quietly rewrites it (drops
    paths, NUL and line breaks), so that every upload path checks the same name."""

    sent: list[str]

    def sanitize_file_name(self, file_name: str) -> str | None:
        self.sent.append(html.unescape(file_name))  # Django unescapes HTML entities first
        return super().sanitize_file_name(file_name)


def record_sent_file_names(request: HttpRequest) -> None:
    """Have the request's multipart body parsed with its file names noted as sent."""
    sent: list[str] = []

    def parse(meta: Any, post_data: Any) -> Any:
        parser = _NameRecordingParser(meta, post_data, request.upload_handlers, request.encoding)
        parser.sent = sent
        return parser.parse()

    request.parse_file_upload = parse  # type: ignore[method-assign,assignment]
    request._sent_file_names = sent  # type: ignore[attr-defined]


def sent_file_names(request: HttpRequest, files: list[Any]) -> list[str]:
    """The names of these uploaded files as the client sent them (Django's own where unknown)."""
    sent: list[str] | None = getattr(request, "_sent_file_names", None)
    names = [f.name or "" for f in files]
    if sent is None or len(sent) != len(names):
        return names
    return list(sent)
