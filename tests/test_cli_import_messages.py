"""The import command says what went wrong, with its own exit code, and shows honest progress."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from defectdesk.ledger.importer import ProgressBar, estimate_events, import_path
from defectdesk.ledger.ingest import IngestResult
from defectdesk.ledger.models import Event

pytestmark = pytest.mark.django_db


def run(*args: str, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err, **kwargs)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), f"{err.getvalue()}{exc}"
    return 0, out.getvalue(), err.getvalue()


def write(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return path


def test_a_missing_file_says_so_with_exit_code_3(tmp_path: Path, marketplace: Any) -> None:
    code, _, err = run(str(tmp_path / "nope.ndjson"), "--quiet")
    assert code == 3
    assert "nope.ndjson: no such file" in err
    assert "rejected" not in err


def test_a_directory_is_not_a_file(tmp_path: Path, marketplace: Any) -> None:
    folder = tmp_path / "events.ndjson"
    folder.mkdir()
    code, _, err = run(str(folder), "--quiet")
    assert code == 3
    assert "is a directory" in err


def test_a_bad_csv_header_names_the_missing_columns_with_exit_code_4(
    tmp_path: Path, marketplace: Any
) -> None:
    path = tmp_path / "events.csv"
    path.write_text("id,type,seller\nx,order.placed,S-1\n")
    code, _, err = run(str(path), "--quiet")
    assert code == 4
    assert "lacks the column(s) occurred_at, marketplace, order" in err
    assert "rejected" not in err.split("\n")[-1]
    assert not Event.objects.exists()


def test_stdin_without_format_asks_for_it_with_exit_code_2(marketplace: Any) -> None:
    code, _, err = run("-")
    assert code == 2
    assert "pass --format ndjson or --format csv" in err


def test_an_unknown_extension_without_format_exit_code_2(tmp_path: Path, marketplace: Any) -> None:
    path = tmp_path / "events.txt"
    path.write_text("")
    code, _, err = run(str(path))
    assert code == 2
    assert "events.txt: cannot tell the format" in err


def test_rejects_exit_1_and_say_how_many(tmp_path: Path, marketplace: Any, make_event: Any) -> None:
    bad = make_event(order="X")
    bad["occurred_at"] = "2026-10-01T12:00:00"  # naive
    code, out, err = run(str(write(tmp_path / "e.ndjson", [bad])), "--quiet")
    assert code == 1
    assert "1 event rejected" in err
    assert "0 created, 0 duplicates, 1 rejected" in out


def test_one_event_is_one_event_and_the_timing_is_not_coloured_as_an_error(
    tmp_path: Path, marketplace: Any, make_event: Any
) -> None:
    path = write(tmp_path / "one.ndjson", [make_event()])
    code, out, err = run(str(path), "--quiet", force_color=True)
    assert code == 0, err
    assert "1 created" in out
    assert "1 event in " in err and "1 events" not in err
    assert "\x1b[" not in err  # not in the error colour (nor any colour)
    code, out, err = run(str(path), "--quiet", force_color=True)
    assert "0 created, 1 duplicate, 0 rejected" in out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_moves_with_events_applied_with_a_rate_and_an_eta() -> None:
    screen = Terminal()
    bar = ProgressBar("events.ndjson", 1000, screen)
    bar.start -= 10  # ten seconds in
    bar(999_999, 300, IngestResult())  # the reader is far ahead; 300 events are applied
    line = screen.getvalue().split("\r")[-1]
    assert "30%" in line
    assert "300 events of ~1,000" in line
    assert "30/s" in line
    assert "ETA 23s" in line
    bar(999_999, 1000, IngestResult())  # past the estimate: waits at 99% until done
    assert "99%" in screen.getvalue().split("\r")[-1]
    assert "ETA -" in screen.getvalue().split("\r")[-1]
    unknown = ProgressBar("-", None, Terminal())
    unknown(0, 1, IngestResult())
    assert "1 event " in unknown.out.getvalue()


def test_progress_reports_each_applied_batch_not_the_bytes_read_ahead(
    tmp_path: Path, marketplace: Any, make_event: Any
) -> None:
    events = [make_event(order=f"O-{n}") for n in range(50)]
    path = write(tmp_path / "fifty.ndjson", events)
    seen: list[int] = []
    import_path(str(path), batch_size=20, progress=lambda pos, batch, result: seen.append(batch))
    # The whole file is read ahead before the first batch; progress still counts 20, 20, 10.
    assert seen == [20, 20, 10]
    assert estimate_events(str(path)) == 50


def test_top_level_help_lists_defectdesk_commands_not_djangos() -> None:
    env = {**os.environ, "DEFECTDESK_TESTING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "defectdesk.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")]
    for name in ("demo", "serve", "worker", "scheduler", "import", "generate", "health"):
        assert name in listed
    for name in ("marketplace", "users", "tokens", "rebuild"):
        assert name in listed
    for django_command in ("makemigrations", "squashmigrations", "runserver", "sendtestemail"):
        assert django_command not in done.stdout
    assert "defectdesk help --all" in done.stdout
