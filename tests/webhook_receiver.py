"""A webhook receiver on loopback for tests: fails its first N posts, records the others."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from defectdesk.webhooks.signing import signature_valid

PORTS = range(18400, 18500)


@dataclass
class Receiver:
    secret: str = ""
    fail_first: int = 0
    delay_first: float = 0.0  # seconds the first post is kept waiting before the answer
    posts: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    signatures_ok: list[bool] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def ids(self) -> list[str]:
        with self.lock:
            return [e["id"] for e in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.posts += 1
                number = receiver.posts
            if number == 1 and receiver.delay_first:
                time.sleep(receiver.delay_first)
            if number <= receiver.fail_first:
                self.send_response(500)
                self.end_headers()
                return
            valid = signature_valid(
                receiver.secret,
                self.headers.get("DefectDesk-Signature", ""),
                body,
                int(time.time()),
            )
            with receiver.lock:
                receiver.received.append(orjson.loads(body))
                receiver.signatures_ok.append(valid)
            try:
                self.send_response(200 if valid else 400)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')
            except OSError:  # the sender gave up waiting (the slow-receiver test)
                return

    return Handler


def _server(receiver: Receiver) -> ThreadingHTTPServer:
    for port in PORTS:
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
        except OSError:
            continue
    raise RuntimeError("no free port in 18400-18499 for the test receiver")


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    server = _server(receiver)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18400-18499")
