"""`defectdesk demo`: migrate, load the demo once, and run web, worker and scheduler together."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess  # nosec B404 # starts only our own executable with fixed arguments
import sys
import time
from types import FrameType
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from defectdesk.core.deploy import ensure_safe_to_serve
from defectdesk.core.errors import DomainError
from defectdesk.core.management.args import positive_int
from defectdesk.demo.loader import DEMO_ORDERS, DEMO_SEED, demo_load, demo_logins_text

STOP_GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def _port_check(bind: str) -> None:
    """Refuse early, before loading anything, when the web address cannot be used."""
    if bind.startswith("unix:"):
        return
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind must be HOST:PORT such as 127.0.0.1:8000, not {bind!r}")
    host = host.strip("[]")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, int(port)))
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {bind}: {exc.strerror or exc}; stop what runs there or pass "
            "another --bind"
        ) from exc


def _die_with_parent() -> None:
    """In a child: be sent SIGTERM when the demo process dies, however it dies (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = (
        "Run the demo: migrate the database, load the demo marketplace (once: a second run only "
        "serves), then serve the web application, a worker and the scheduler until Ctrl-C, which "
        "stops all three. Prints the URL and the demo logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            default=os.environ.get("BIND") or "127.0.0.1:8000",
            help="address for the web application (default: $BIND or 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="migrate and load the demo, print the logins, and exit",
        )
        parser.add_argument(
            "--orders",
            type=positive_int,
            default=DEMO_ORDERS,
            help=f"orders in the demo ledger on its first load (default: {DEMO_ORDERS})",
        )
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="seed of the demo ledger")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_serve"]:
            try:
                ensure_safe_to_serve()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            _port_check(options["bind"])
        self.stdout.write("migrating the database ...")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("loading the demo marketplace ...")
        started = time.monotonic()
        try:
            loaded = demo_load(orders=options["orders"], seed=options["seed"])
        except DomainError as exc:
            raise CommandError(f"the demo cannot be loaded: {exc}") from exc
        except KeyboardInterrupt:
            raise CommandError(
                "interrupted while loading; run the demo again to finish loading", returncode=130
            ) from None
        if loaded.already_loaded:
            self.stdout.write(f"the demo is already loaded (its ledger ends {loaded.end})")
        else:
            self.stdout.write(
                f"loaded {loaded.created:,} events ({loaded.duplicates:,} already there) "
                f"ending {loaded.end} in {time.monotonic() - started:.1f}s"
            )
        bind = options["bind"]
        self.stdout.write("")
        self.stdout.write(demo_logins_text(bind if bind.startswith("unix:") else f"http://{bind}/"))
        self.stdout.write("")
        if options["no_serve"]:
            return
        connections.close_all()
        code = self._supervise(options["bind"])
        if code:
            raise CommandError("a demo process stopped unexpectedly", returncode=code)

    def _supervise(self, bind: str) -> int:
        """Run web, worker and scheduler as children until a signal or one of them exits."""
        base = [sys.executable, "-m", "defectdesk.cli"]
        commands = {
            "web": [*base, "serve", "--bind", bind, "--static"],
            "worker": [*base, "worker", "--interval", "1"],
            "scheduler": [*base, "scheduler"],
        }
        received: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            received.append(signum)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        children: dict[str, subprocess.Popen[bytes]] = {}
        exit_code = 0
        try:
            for name, argv in commands.items():
                # Own process group: a terminal's Ctrl-C reaches only us, and we stop the
                # children once, in order.
                children[name] = subprocess.Popen(  # noqa: S603 - our own executable # nosec B603 # our own executable and arguments, no shell
                    argv, process_group=0, preexec_fn=_die_with_parent
                )
            self.stdout.write("press Ctrl-C to stop")
            self.stdout.flush()
            while not received:
                ended = [(n, p.returncode) for n, p in children.items() if p.poll() is not None]
                if ended:
                    name, code = ended[0]
                    self.stderr.write(f"the {name} process exited with status {code}; stopping")
                    exit_code = 1
                    break
                time.sleep(0.2)
        finally:
            self._stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if received:
            self.stdout.write("demo stopped")
        return exit_code

    def _stop(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        for proc in children.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in children.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
