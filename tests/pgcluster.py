"""A throw-away PostgreSQL primary and its streaming replica on loopback, for replica tests.

The primary is made with initdb (so the shared server's configuration is never touched); the
replica is a pg_basebackup of it (-R: it follows the primary by streaming replication).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PRIMARY_PORT = int(os.environ.get("DEFECTDESK_TEST_PRIMARY_PORT", "18751"))
REPLICA_PORT = int(os.environ.get("DEFECTDESK_TEST_REPLICA_PORT", "18750"))


def pg_bindir() -> Path | None:
    """The newest installed PostgreSQL server's binaries (Debian's layout), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root: run its programs as the postgres user then.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [*prefix, *args], check=True, capture_output=True, text=True, **kwargs
    )


@dataclass
class Clusters:
    base: Path
    bindir: Path

    @property
    def primary(self) -> Path:
        return self.base / "primary"

    @property
    def replica(self) -> Path:
        return self.base / "replica"

    def url(self, port: int, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{name}"

    def start(self, which: Path) -> None:
        _as_postgres(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(which),
                "-l",
                str(which / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def stop(self, which: Path) -> None:
        if (which / "postmaster.pid").exists():
            _as_postgres(
                [str(self.bindir / "pg_ctl"), "-D", str(which), "-m", "fast", "-w", "stop"]
            )

    def psql(self, port: int, sql: str, db: str = "postgres") -> str:
        done = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-d",
                db,
                "-XAtqc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def make(self) -> None:
        """initdb the primary, start it, copy it with pg_basebackup -R, start the replica."""
        self.stop_all()
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        _as_postgres(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.primary),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        with (self.primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {PRIMARY_PORT}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base}'\nwal_level = replica\n"
                "max_wal_senders = 5\nshared_preload_libraries = 'pg_stat_statements'\n"
                "fsync = off\nshared_buffers = 64MB\n"
            )
        # initdb's pg_hba.conf (trust) already lets 127.0.0.1 connect for replication.
        self.start(self.primary)
        _as_postgres(
            [
                str(self.bindir / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(PRIMARY_PORT),
                "-U",
                "postgres",
                "-D",
                str(self.replica),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
            ]
        )
        with (self.replica / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"\nport = {REPLICA_PORT}\nhot_standby = on\n")
        self.start(self.replica)
        self.psql(PRIMARY_PORT, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        deadline = time.monotonic() + 30
        while self.psql(PRIMARY_PORT, "SELECT count(*) FROM pg_stat_replication") != "1":
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not start streaming within 30 s")
            time.sleep(0.2)

    def stop_all(self) -> None:
        for which in (self.replica, self.primary):
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop(which)


def clusters_dir() -> Path:
    return Path(
        os.environ.get("DEFECTDESK_TEST_PG_DIR")
        or Path(tempfile.gettempdir()) / f"defectdesk-pg-{PRIMARY_PORT}"
    )
