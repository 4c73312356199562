"""Every page carries a Content-Security-Policy without inline script; the API docs are local."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


def _policy(reply: Any) -> dict[str, str]:
    parts = [p.strip().split(" ", 1) for p in reply["Content-Security-Policy"].split(";")]
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts if p[0]}


@pytest.mark.parametrize("url", ["/signin/", "/orders/", "/", "/api/v1/docs", "/review/"])
def test_pages_carry_a_policy_without_inline_script(cast: Any, url: str) -> None:
    client = Client()
    client.force_login(cast["rita"] if url == "/review/" else cast["alice"])
    reply = client.get(url)
    assert reply.status_code == 200
    policy = _policy(reply)
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"


def test_swagger_ui_is_served_from_the_application(cast: Any) -> None:
    client = Client()
    client.force_login(cast["alice"])
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
