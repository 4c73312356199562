"""A bad number in the environment stops start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("INGEST_WORKERS", "two", "INGEST_WORKERS must be a whole number, not 'two'"),
        ("INGEST_BATCH_SIZE", "0", "INGEST_BATCH_SIZE must be at least 1, not 0"),
        ("INGEST_READ_AHEAD", "-5", "INGEST_READ_AHEAD must be at least 1, not -5"),
        ("DATABASE_CONN_MAX_AGE", "1.5", "DATABASE_CONN_MAX_AGE must be a whole number"),
    ],
)
def test_a_bad_number_is_named(name: str, value: str, message: str) -> None:
    env = {**os.environ, name: value, "DJANGO_SETTINGS_MODULE": "defectdesk.settings"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert message in done.stderr


def test_default_database_opens_when_the_var_directory_does_not_exist_yet(tmp_path: Any) -> None:
    var = tmp_path / "not-yet" / "var"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        SECRET_KEY="a-key-from-the-environment-" + "x" * 40,
        DEFECTDESK_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="defectdesk.settings",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.db import connection; "
            "connection.ensure_connection()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (var / "defectdesk.sqlite3").exists()
