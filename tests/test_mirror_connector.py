"""The SP-API connector against a local fake of Amazon's endpoints on loopback: a scheduled sync
requests, polls and downloads three report types, survives a 429 and a 500, and never writes a
credential to a log; refused credentials ask the merchant to reconnect and lose nothing."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from cryptography.fernet import Fernet
from django.test import Client, override_settings

from defectdesk.core.models import AuditEvent
from defectdesk.ledger.models import Order
from defectdesk.mirror.connector import (
    connection_disconnect,
    connection_save,
    sync_run,
    sync_schedule,
)
from defectdesk.mirror.models import RawDocument, SpApiConnection, SyncReport
from tests.mirror_support import SAMPLES, account_for, feedback_tsv, orders_tsv

CLIENT_ID = "amzn1.application-oa2-client.CANARYID0001"
SECRET = "amzn1.oa2-cs.v1.CANARY-SECRET-7f3a9c"
REFRESH = "Atzr|CANARY-REFRESH-TOKEN-91b2"
KEY = Fernet.generate_key().decode()
PORTS = range(18600, 18700)

DOCUMENTS = {
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": orders_tsv(
        [("111-0000009-0000001", "2026-10-01T10:00:00-07:00", "Shipped", "MFN")]
    ),
    "GET_SELLER_FEEDBACK_DATA": feedback_tsv([("10/05/26", 1, "Late", "111-0000009-0000001")]),
    "GET_V2_SELLER_PERFORMANCE_REPORT": (
        SAMPLES / "accountHealthReport-2020-11-18.example.json"
    ).read_bytes(),
}


class FakeAmazon:
    """Login with Amazon and the Reports API, as much of them as the connector uses."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.throttled = False
        self.failed = False
        self.reports: dict[str, dict[str, Any]] = {}
        self.refused_tokens: set[str] = set()
        self.port = 0

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        self.calls.append(f"{method} {path.split('?')[0]}")
        if path == "/auth/o2/token":
            form = parse_qs(body.decode())
            token = form.get("refresh_token", [""])[0]
            if token in self.refused_tokens or form.get("client_secret", [""])[0] != SECRET:
                return 400, {"error": "invalid_grant", "error_description": "bad grant"}
            return 200, {
                "access_token": "Atza|fake-access",
                "token_type": "bearer",
                "expires_in": 3600,
            }
        if method == "POST" and path.startswith("/reports/2021-06-30/reports"):
            if not self.throttled:
                self.throttled = True
                return 429, {"errors": [{"code": "QuotaExceeded", "message": "slow down"}]}
            sent = json.loads(body)
            report_id = f"R{len(self.reports) + 1}"
            self.reports[report_id] = {"type": sent["reportType"], "polls": 0}
            return 202, {"reportId": report_id}
        if method == "GET" and path.startswith("/reports/2021-06-30/reports/"):
            report = self.reports[path.rsplit("/", 1)[1].split("?")[0]]
            report["polls"] += 1
            if report["polls"] == 1:
                return 200, {"processingStatus": "IN_PROGRESS"}
            if report["polls"] == 2 and not self.failed:
                self.failed = True
                return 500, {"errors": [{"code": "InternalFailure", "message": "oops"}]}
            return 200, {"processingStatus": "DONE", "reportDocumentId": f"D-{report['type']}"}
        if method == "GET" and path.startswith("/reports/2021-06-30/documents/"):
            doc = path.rsplit("/", 1)[1].split("?")[0]
            return 200, {
                "reportDocumentId": doc,
                "url": f"http://127.0.0.1:{self.port}/download/{doc}",
            }
        if path.startswith("/download/D-"):
            return 200, DOCUMENTS[path.removeprefix("/download/D-")]
        return 404, {"errors": [{"code": "NotFound", "message": path}]}


@pytest.fixture
def fake() -> Iterator[FakeAmazon]:
    amazon = FakeAmazon()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, payload = amazon.handle(self.command, self.path, self.rfile.read(length))
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            kind = "text/plain; charset=utf-8" if isinstance(payload, bytes) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            return

    server = None
    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
            break
        except OSError:
            continue
    assert server is not None, "no free port in 18600-18699"
    amazon.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{amazon.port}"
    with override_settings(
        MIRROR_CREDENTIALS_KEY=KEY, MIRROR_SP_API_ENDPOINT=base, MIRROR_LWA_ENDPOINT=base
    ):
        yield amazon
    server.shutdown()
    server.server_close()


def _run_until_done(connection: SpApiConnection, start: datetime, limit: int = 40) -> int:
    """Run the sync job as the scheduler would, each run at the next moment a report is due."""
    now = start
    for runs in range(1, limit + 1):
        waiting = sync_run(connection.pk, now=now)
        if waiting == 0:
            return runs
        due = SyncReport.objects.filter(connection=connection).order_by("next_try_at").first()
        assert due is not None
        now = max(now, due.next_try_at) + timedelta(seconds=1)
    raise AssertionError("the sync did not finish")


def test_a_scheduled_sync_survives_429_and_500_and_logs_no_credential(
    cast: dict[str, Any], fake: FakeAmazon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = account_for(cast["alice"])
    connection = connection_save(
        actor=cast["alice"],
        account=account,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        refresh_token=REFRESH,
    )
    stored = SpApiConnection.objects.get(pk=connection.pk).secret
    assert SECRET not in stored and REFRESH not in stored and CLIENT_ID not in stored
    reports = sync_schedule(actor=cast["alice"], account=account, today=date(2026, 11, 20))
    assert len(reports) == 3
    runs = _run_until_done(connection, datetime.now(UTC))
    done = SyncReport.objects.filter(connection=connection)
    assert sorted(done.values_list("status", flat=True)) == ["downloaded"] * 3
    assert fake.throttled and fake.failed
    assert max(done.values_list("attempts", flat=True)) >= 1
    assert sorted(done.values_list("report_type", flat=True)) == sorted(DOCUMENTS)
    documents = RawDocument.objects.filter(source="connector")
    assert documents.count() == 3
    orders_doc = documents.get(report_type="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL")
    assert bytes(orders_doc.content) == DOCUMENTS[orders_doc.report_type]
    assert Order.objects.filter(order_ref="111-0000009-0000001").exists()
    assert fake.calls.count("POST /reports/2021-06-30/reports") == 4  # 3 + the throttled one
    print(f"\nconnector: {runs} job runs, {len(fake.calls)} calls to the fake")
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for secret in (SECRET, REFRESH):
        assert secret not in logged
    audit = "\n".join(str(a) for a in AuditEvent.objects.values_list("note", "data"))
    assert SECRET not in audit and REFRESH not in audit
    client = Client()
    client.force_login(cast["alice"])
    page = client.get(f"/amazon/{account.pk}/connection/").content.decode()
    assert SECRET not in page and REFRESH not in page and "Downloaded and imported" in page


def test_refused_credentials_ask_to_reconnect_and_lose_nothing(
    cast: dict[str, Any], fake: FakeAmazon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = account_for(cast["alice"])
    expired = REFRESH + "-expired"
    fake.refused_tokens.add(expired)
    connection = connection_save(
        actor=cast["alice"],
        account=account,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        refresh_token=expired,
    )
    sync_schedule(actor=cast["alice"], account=account, today=date(2026, 11, 20))
    assert sync_run(connection.pk) == 3
    connection.refresh_from_db()
    assert connection.status == "needs_reconnect"
    assert "Reconnect the account" in connection.message
    assert SyncReport.objects.filter(status="pending").count() == 3
    assert AuditEvent.objects.filter(action="mirror.connection_refused").count() == 1
    assert expired not in caplog.text and SECRET not in caplog.text
    # Reconnecting with good credentials picks the waiting reports up again.
    connection_save(
        actor=cast["alice"],
        account=account,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        refresh_token=REFRESH + "-new",
    )
    _run_until_done(connection, datetime.now(UTC))
    assert SyncReport.objects.filter(status="downloaded").count() == 3
    connection_disconnect(actor=cast["alice"], account=account)
    assert SpApiConnection.objects.get(pk=connection.pk).secret == ""
    assert RawDocument.objects.filter(source="connector").count() == 3


def test_bad_input_to_the_connection_is_refused_by_field(
    cast: dict[str, Any], fake: FakeAmazon
) -> None:
    account = account_for(cast["alice"])
    client = Client()
    client.force_login(cast["alice"])
    page = client.post(
        f"/amazon/{account.pk}/connection/",
        {
            "step": "connect",
            "client_id": "x",
            "client_secret": "bad\x00secret",
            "refresh_token": "",
        },
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "bad\x00secret" not in text and "This field is required" in text
    assert not SpApiConnection.objects.exists()
    carol = Client()
    carol.force_login(cast["carol"])
    assert carol.get(f"/amazon/{account.pk}/connection/").status_code == 404


def test_without_a_key_connecting_is_refused_clearly(cast: dict[str, Any]) -> None:
    account = account_for(cast["alice"])
    with override_settings(MIRROR_CREDENTIALS_KEY=""):
        from defectdesk.core.errors import Conflict

        with pytest.raises(Conflict) as exc:
            connection_save(
                actor=cast["alice"],
                account=account,
                client_id="a",
                client_secret="b",
                refresh_token="c",
            )
    assert (
        "MIRROR_CREDENTIALS_KEY" in str(exc.value) and "b" not in str(exc.value).split("(")[0][-3:]
    )


def test_the_fake_listens_on_loopback_only(fake: FakeAmazon) -> None:
    with socket.create_connection(("127.0.0.1", fake.port), timeout=2):
        pass
