"""`defectdesk serve` as an operator runs it: behind a proxy, hashed and compressed static files
through WhiteNoise, JSON logs naming each request, and the /healthz and /readyz probes."""

from __future__ import annotations

import gzip
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from defectdesk.core import readiness
from defectdesk.core.jobs.worker import worker_heartbeat

SERVE_PORT = 18711
DEFECTDESK = str(Path(sys.executable).with_name("defectdesk"))


@pytest.fixture(autouse=True)
def _forget_migrations_checked() -> Iterator[None]:
    readiness._migrated_at = 0.0
    yield
    readiness._migrated_at = 0.0


def test_healthz_answers_without_the_database() -> None:
    # No django_db mark: any query would raise.
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_readyz_is_ready_with_a_live_worker() -> None:
    worker_heartbeat("w-ready")
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "worker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_names_a_missing_worker() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert "no worker has sent a heartbeat" in body["checks"]["worker"]


@pytest.mark.django_db
def test_readyz_names_unapplied_migrations() -> None:
    worker_heartbeat("w-ready")
    MigrationRecorder.Migration.objects.filter(
        app="appeals", name="0004_appeal_defect_kind"
    ).delete()
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"].startswith(
        "1 migrations not applied (appeals.0004_appeal_defect_kind)"
    )


@pytest.mark.django_db
def test_readyz_says_the_database_is_unreachable(monkeypatch: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection to server at 127.0.0.1 port 5432 failed: refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = Client().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"].startswith("unreachable: connection to server")
    assert checks["worker"] == "not checked"


def test_readyz_refuses_writes() -> None:
    assert Client().post("/readyz").status_code == 405


# -- the real process ---------------------------------------------------------------------------


def _env(tmp: Path, static_root: str = "static") -> dict[str, str]:
    dropped = ("DEFECTDESK_TESTING", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEFECTDESK_EMBEDDED")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="defectdesk.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="defectdesk.example.com,127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        DEFECTDESK_VAR_DIR=str(tmp / "var"),
        STATIC_ROOT=str(tmp / static_root),
        BEHIND_PROXY="1",
        LOG_FORMAT="json",
        WEB_CONCURRENCY="1",
    )
    env.pop("REDIS_URL", None)
    return env


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report redirects rather than follow them (they name hosts off this machine)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _get(path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{SERVE_PORT}{path}", headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    tmp = tmp_path_factory.mktemp("serve")
    env = _env(tmp)
    for args in (["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]):
        done = subprocess.run([DEFECTDESK, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    log = tmp / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [DEFECTDESK, "serve", "--bind", f"127.0.0.1:{SERVE_PORT}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield tmp, []
    finally:
        process.terminate()
        process.wait(timeout=30)


def _json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_serve_behind_a_proxy_logs_json_with_request_ids(served: Any) -> None:
    tmp, _ = served
    proxied = {"Host": "defectdesk.example.com", "X-Forwarded-Proto": "https"}
    status, headers, _ = _get("/healthz", {**proxied, "X-Request-ID": "probe-1"})
    assert status == 200
    assert headers["X-Request-ID"] == "probe-1"
    # The proxy says the visitor came over HTTPS: no redirect, and HSTS is sent.
    status, headers, _ = _get("/signin/", proxied)
    assert status == 200
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    # Without it (plain HTTP at the proxy), the production default sends people to HTTPS.
    status, headers, _ = _get("/signin/", {"Host": "defectdesk.example.com"})
    assert status == 301 and headers["Location"] == "https://defectdesk.example.com/signin/"
    time.sleep(0.5)
    records = _json_lines(tmp / "serve.log")
    probe = [r for r in records if r.get("logger") == "defectdesk.request"]
    assert any(
        r["request_id"] == "probe-1" and r["path"] == "/healthz" and r["status"] == 200
        for r in probe
    ), probe
    assert all(r["request_id"] for r in probe)
    assert {"time", "level", "message", "duration_ms", "method"} <= set(probe[0])


def test_serve_sends_hashed_compressed_static_files(served: Any) -> None:
    tmp, _ = served
    proxied = {"Host": "defectdesk.example.com", "X-Forwarded-Proto": "https"}
    manifest = json.loads((tmp / "static" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["web/app.css"]
    assert hashed != "web/app.css" and hashed.startswith("web/app.")
    _, _, page = _get("/signin/", proxied)
    assert f"/static/{hashed}".encode() in page
    status, headers, body = _get(f"/static/{hashed}", {**proxied, "Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    source = Path(__file__).resolve().parents[1] / "src/defectdesk/web/static/web/app.css"
    assert gzip.decompress(body) == source.read_bytes()


def test_serve_readyz_follows_the_worker_heartbeat(served: Any) -> None:
    tmp, _ = served
    proxied = {"Host": "defectdesk.example.com", "X-Forwarded-Proto": "https"}
    status, _, body = _get("/readyz", proxied)
    assert status == 503 and "no worker" in json.loads(body)["checks"]["worker"]
    now = datetime.now(UTC).isoformat(sep=" ")
    with sqlite3.connect(tmp / "db.sqlite3") as db:
        db.execute(
            "INSERT INTO core_workerheartbeat (worker_id, hostname, pid, queues, started_at,"
            " seen_at) VALUES ('w-1', 'here', 1, 'default', ?, ?)",
            (now, now),
        )
    status, _, body = _get("/readyz", proxied)
    assert status == 200, body
    assert json.loads(body)["status"] == "ready"


def test_serve_refuses_uncollected_static_files(tmp_path: Path) -> None:
    env = _env(tmp_path, static_root="nothing")
    done = subprocess.run(
        [DEFECTDESK, "serve", "--bind", f"127.0.0.1:{SERVE_PORT + 1}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Static files are not collected" in done.stderr
    assert "collectstatic" in done.stderr
