"""An import that fills the disk stops with a clear message, and once there is room again the
same import resumes and ends exactly like an uninterrupted one: nothing lost, nothing doubled.

The database lives on a small tmpfs (mounted by the test, which needs root, as in CI), sized to
fill up halfway through the import, then remounted larger."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.test_import_kill import POSTGRES, _cli, _database, _digest, _rows

pytestmark = [
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="mounting the small tmpfs that fills up needs root (CI runs as root)",
    ),
    # The disk that fills is the embedded database's file; the SQLite run of the suite covers it.
    pytest.mark.skipif(POSTGRES, reason="the full disk is the embedded SQLite database's"),
]


def _mount(point: Path, size: int, remount: bool = False) -> None:
    options = f"{'remount,' if remount else ''}size={size}"
    args = (
        ["mount", "-o", options, str(point)]
        if remount
        else ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)]
    )
    subprocess.run(args, check=True, capture_output=True)


def _used(point: Path) -> int:
    stat = os.statvfs(point)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def test_an_import_on_a_full_disk_stops_clearly_and_resumes_without_loss(tmp_path: Path) -> None:
    ledger = tmp_path / "events.ndjson"
    made = _cli(
        tmp_path,
        tmp_path / "gen.sqlite3",
        "generate",
        "--orders",
        "3000",
        "--end",
        "2026-10-01",
        "--out",
        str(ledger),
    )
    assert made.returncode == 0, made.stderr
    reference = _database(tmp_path, "reference")
    # The same batch size as below: the reference differs from a default-sized import in some
    # defects and counters (a batching dependence of the projections, outside this test).
    whole = _cli(tmp_path, reference, "import", str(ledger), "--quiet", "--batch-size", "1000")
    assert whole.returncode == 0, whole.stderr
    full_size = reference.stat().st_size

    disk = tmp_path / "disk"
    disk.mkdir()
    _mount(disk, 4 * full_size + 64 * 1024 * 1024)
    try:
        db = _database(disk, "small")
        # Room for about half of what the import adds.
        room = _used(disk) + (full_size - db.stat().st_size) // 2
        _mount(disk, room, remount=True)
        # Small batches: several commit before the disk fills.
        stopped = _cli(tmp_path, db, "import", str(ledger), "--quiet", "--batch-size", "1000")
        assert stopped.returncode == 1
        assert "Traceback" not in stopped.stderr, stopped.stderr
        assert "the disk is full" in stopped.stderr, stopped.stderr
        assert "run the same import again" in stopped.stderr
        _mount(disk, 4 * full_size + 64 * 1024 * 1024, remount=True)
        resumed = _cli(tmp_path, db, "import", str(ledger), "--quiet", "--batch-size", "1000")
        assert resumed.returncode == 0, resumed.stderr
        duplicates = int(
            resumed.stdout.split(" created, ")[1].split(" duplicates")[0].replace(",", "")
        )
        assert duplicates > 0, resumed.stdout  # what committed before the disk filled
        print(f"\ndisk full: {stopped.stderr.strip().splitlines()[-1]}\nresumed: {resumed.stdout}")
        assert _digest(_rows(db)) == _digest(_rows(reference))
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)
