"""`check --deploy --fail-level WARNING` is clean with production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys


def test_deploy_check_is_clean_with_production_settings() -> None:
    dropped = ("DEFECTDESK_TESTING", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="defectdesk.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="defectdesk.example.com",
        BEHIND_PROXY="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
