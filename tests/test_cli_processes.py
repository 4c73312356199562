"""The long-running commands: serve, worker, scheduler and demo, run as a person runs them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "defectdesk.cli"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with nothing of ours in it: no SECRET_KEY, DEBUG or DATABASE_URL."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DEFECTDESK_VAR_DIR": str(tmp_path / "var"),
    }
    env.update(extra)
    return env


def run(
    tmp_path: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def descendants(pid: int) -> set[int]:
    """Every living process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(url: str, proc: subprocess.Popen[str], seconds: float = 90) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_serve_refuses_with_debug_off_and_no_secret_key(tmp_path: Path) -> None:
    port = free_port()
    result = run(tmp_path, "serve", "--bind", f"127.0.0.1:{port}", timeout=60)
    assert result.returncode == 1
    assert "Refusing to serve with DEBUG off: set SECRET_KEY and ALLOWED_HOSTS" in result.stderr
    assert "Listening" not in result.stdout + result.stderr


def test_serve_names_only_what_is_missing(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", SECRET_KEY="x" * 50, timeout=60)
    assert result.returncode == 1
    assert "set ALLOWED_HOSTS in the environment" in result.stderr


def test_serve_refuses_a_bad_web_concurrency(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", DEFECTDESK_EMBEDDED="1", WEB_CONCURRENCY="many", timeout=60)
    assert result.returncode == 1
    assert "WEB_CONCURRENCY must be a whole number of at least 1, not 'many'" in result.stderr


def test_demo_refuses_a_busy_port_before_loading(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(tmp_path, "demo", "--bind", f"127.0.0.1:{port}", DEFECTDESK_EMBEDDED="1")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert not (tmp_path / "var" / "defectdesk.sqlite3").exists()


def test_demo_refuses_a_bind_without_a_port(tmp_path: Path) -> None:
    result = run(tmp_path, "demo", "--bind", "localhost", DEFECTDESK_EMBEDDED="1")
    assert result.returncode == 1
    assert "--bind must be HOST:PORT such as 127.0.0.1:8000, not 'localhost'" in result.stderr


def test_demo_refuses_to_serve_unsafely_before_touching_the_database(tmp_path: Path) -> None:
    result = run(tmp_path, "demo", timeout=60)
    assert result.returncode == 1
    assert "DEFECTDESK_EMBEDDED=1" in result.stderr
    assert not (tmp_path / "var" / "defectdesk.sqlite3").exists()


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler", "demo"])
def test_every_process_command_has_help(tmp_path: Path, command: str) -> None:
    result = run(tmp_path, command, "--help", timeout=60)
    assert result.returncode == 0
    assert "usage: defectdesk " + command in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["worker", "--interval", "-1"], "must be a number of seconds, zero or more, not '-1'"),
        (["worker", "--max-tasks", "0"], "must be a whole number of at least 1, not '0'"),
        (["serve", "--workers", "0"], "must be a whole number of at least 1, not '0'"),
        (["scheduler", "--interval", "soon"], "must be a number of seconds, not 'soon'"),
        (["demo", "--orders", "0"], "must be a whole number of at least 1, not '0'"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(tmp_path, *args, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
    assert args[1] in result.stderr


@pytest.mark.parametrize("command", [["worker"], ["scheduler"], ["serve"]])
def test_processes_refuse_an_unmigrated_database(tmp_path: Path, command: list[str]) -> None:
    result = run(tmp_path, *command, DEFECTDESK_EMBEDDED="1", timeout=60)
    assert result.returncode == 1
    assert "migrations to apply; run `defectdesk migrate` first" in result.stderr


@dataclass(frozen=True)
class LoadedDemo:
    """A var folder in which `demo --no-serve` ran twice, and what the two runs printed."""

    var: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]

    def copy_to(self, tmp_path: Path) -> None:
        shutil.copytree(self.var, tmp_path / "var")


@pytest.fixture(scope="module")
def loaded_demo(tmp_path_factory: pytest.TempPathFactory) -> LoadedDemo:
    """Migrating and loading take a while: done once for the tests that need a loaded demo."""
    home = tmp_path_factory.mktemp("demo")
    first = run(home, "demo", "--no-serve", "--orders", "120", DEFECTDESK_EMBEDDED="1")
    second = run(home, "demo", "--no-serve", DEFECTDESK_EMBEDDED="1")
    return LoadedDemo(home / "var", first, second)


def test_demo_no_serve_loads_twice_without_duplicates(loaded_demo: LoadedDemo) -> None:
    first, second = loaded_demo.first, loaded_demo.second
    assert first.returncode == 0, first.stderr
    assert "loaded " in first.stdout and "(0 already there)" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "the demo is already loaded" in second.stdout
    for out in (first.stdout, second.stdout):
        assert "DefectDesk demo: http://127.0.0.1:8000/" in out
        assert "rita   password demo-rita-2026" in out
    db = sqlite3.connect(loaded_demo.var / "defectdesk.sqlite3")
    try:
        users = db.execute("SELECT COUNT(*) FROM auth_user").fetchone()[0]
        loads = db.execute(
            "SELECT COUNT(*) FROM core_auditevent WHERE action = 'demo.load'"
        ).fetchone()[0]
    finally:
        db.close()
    assert (users, loads) == (5, 2)  # started + loaded, written once


def test_worker_and_scheduler_run_once_and_exit_0(tmp_path: Path, loaded_demo: LoadedDemo) -> None:
    loaded_demo.copy_to(tmp_path)
    scheduler = run(tmp_path, "scheduler", "--once")
    assert scheduler.returncode == 0, scheduler.stderr
    assert "enqueued deliver outbox" in scheduler.stdout
    worker = run(tmp_path, "worker", "--batch", "--worker-id", "w-test")
    assert worker.returncode == 0, worker.stderr
    assert "worker w-test taking jobs from default" in worker.stdout
    db = sqlite3.connect(tmp_path / "var" / "defectdesk.sqlite3")
    try:
        statuses = db.execute(
            "SELECT DISTINCT status FROM django_tasks_database_dbtaskresult"
        ).fetchall()
    finally:
        db.close()
    assert statuses == [("SUCCESSFUL",)]


@pytest.fixture
def demo_process(
    tmp_path: Path, loaded_demo: LoadedDemo
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    loaded_demo.copy_to(tmp_path)
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "demo", "--orders", "80", "--bind", f"127.0.0.1:{port}"],
        cwd=tmp_path,
        env=clean_env(tmp_path, DEFECTDESK_EMBEDDED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc, port
    finally:
        for pid in descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_demo_serves_web_worker_and_scheduler_until_ctrl_c(
    demo_process: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = demo_process
    page = wait_for(f"http://127.0.0.1:{port}/signin/", proc)
    assert b"<form" in page
    assert wait_for(f"http://127.0.0.1:{port}/static/web/app.css", proc)
    children = descendants(proc.pid)
    commands = {Path(f"/proc/{pid}/cmdline").read_text().split("\0")[3] for pid in children}
    assert commands == {"serve", "worker", "scheduler"}
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "alice  password demo-alice-2026" in out
    assert "demo stopped" in out
    assert not [pid for pid in children if alive(pid)]


def test_a_killed_demo_takes_its_processes_with_it(
    demo_process: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = demo_process
    wait_for(f"http://127.0.0.1:{port}/signin/", proc)
    children = descendants(proc.pid)
    assert len(children) >= 3
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and [pid for pid in children if alive(pid)]:
        time.sleep(0.2)
    assert not [pid for pid in children if alive(pid)]
