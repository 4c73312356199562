"""Every text field of S-2 and S-3 carries a marker; nothing S-1's people or token see shows one:
no page, API answer, CSV export, appeal packet, e-mail or log line."""

from __future__ import annotations

import io
import logging
import re
from collections import deque
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from pypdf import PdfReader

from defectdesk.policy.profile import METRICS
from tests.tenant_world import bearer, foreign_markers, world_build
from tests.test_appeal_support import frozen, media  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "frozen")

HREF = re.compile(r"""(?:href|action|src)="(/[^"#]*)\"""")
SKIP = ("/signout/", "/static/", "/admin/", "/password/reset/")
VISIBLE = {"S-1"}


def _text(response: Any) -> str:
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(raw)).pages)
    return str(raw.decode("utf-8", "replace"))


def _seeds(world: Any) -> list[str]:
    s1 = world.sellers["S-1"]
    urls = ["/", "/orders/", "/orders/export.csv", "/appeals/", "/messages/", "/notifications/"]
    urls += ["/health/appealable/", "/settings/users/", "/settings/tokens/", "/settings/you/"]
    urls += [f"/health/{m}/" for m in METRICS]
    urls += [f"/orders/US/{o}/" for o in s1.orders]
    urls += [f"/appeals/{a}/" for a in s1.appeals]
    urls += [f"/defects/{d}/appeal/" for d in s1.defects]
    api = ["/api/v1/appeals", "/api/v1/defects", "/api/v1/orders", "/api/v1/notifications"]
    api += [f"/api/v1/appeals/{a}" for a in s1.appeals]
    api += [f"/api/v1/appeals/{a}/packet.pdf" for a in s1.appeals]
    api += [f"/api/v1/appeals/{a}/files/{f}" for a, f in s1.files]
    api += [f"/api/v1/orders/US/{o}" for o in s1.orders]
    for tail in ("", "/history", "/explain", "/changes", "/outlook"):
        api.append(f"/api/v1/sellers/S-1/health{tail}")
    api += [f"/api/v1/sellers/S-1/health/{m}/orders" for m in METRICS]
    api += ["/api/v1/sellers/S-1/appealable-defects", "/api/v1/sellers/S-1/at-risk"]
    return urls + api


def _walk(client: Client, seeds: list[str], found: list[str], limit: int = 600) -> tuple[int, int]:
    """Open the seeds and every same-site link on the pages they lead to; (scanned, own marks)."""
    queue, seen, own = deque(seeds), set(seeds), 0
    while queue and len(seen) <= limit:
        url = queue.popleft()
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        text = _text(response)
        found += [f"{url}: {m}" for m in foreign_markers(text, VISIBLE)]
        own += len(re.findall(r"canary-s1-\d+", text, re.IGNORECASE))
        if "html" in response.get("Content-Type", ""):
            for link in HREF.findall(text):
                link = link.replace("&amp;", "&")
                if link not in seen and not link.startswith(SKIP):
                    seen.add(link)
                    queue.append(link)
    return len(seen), own


def test_canary_scan(cast: dict[str, Any], make_event: Any, caplog: Any, capsys: Any) -> None:
    caplog.set_level(logging.DEBUG)
    world = world_build(cast, make_event)
    caplog.clear()
    found: list[str] = []
    scanned = own = 0
    for name in ("alice", "bob"):
        client = Client()
        client.force_login(cast[name])
        n, o = _walk(client, _seeds(world), found)
        scanned, own = scanned + n, own + o
    for key in ("token S-1", "read-only token S-1", "operator's token S-1"):
        api = [u for u in _seeds(world) if u.startswith("/api/")]
        n, o = _walk(bearer(world.raw_tokens[key]), api, found)
        scanned, own = scanned + n, own + o
    s1_mail = [m for m in mail.outbox if set(m.to) & {"alice@s1.example", "bob@s1.example"}]
    for message in s1_mail:
        text = "\n".join([message.subject, message.body, *map(str, message.alternatives)])
        found += [f"mail to {message.to}: {m}" for m in foreign_markers(text, VISIBLE)]
    s1_logs = list(caplog.records)
    for record in s1_logs:
        found += [f"log {record.name}: {m}" for m in foreign_markers(record.getMessage(), VISIBLE)]
    markers = sum(len(v) for k, v in world.markers.items() if k != "S-1")
    with capsys.disabled():
        print(
            f"\ncanary scan: {markers} markers seeded in S-2 and S-3, {len(found)} found; "
            f"{scanned} responses, {len(s1_mail)} e-mails and {len(s1_logs)} log records "
            f"scanned ({own} of S-1's own markers seen)"
        )
    assert found == [], found[:20]
    assert own > 0 and s1_mail
