"""The restore drill: `defectdesk backup` a small ledger with evidence, then `defectdesk
restore-check` restores it into a scratch database and checks counts, health and checksums."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from defectdesk.appeals.models import AppealFile
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    client_for,
    frozen,
    ingest,
    negative_feedback,
    png_bytes,
)
from tests.test_appeal_support import media as media
from tests.test_jobs_many_workers import _database_url
from tests.test_web_support import shop

ROOT = Path(__file__).resolve().parents[1]
DEFECTDESK = str(Path(sys.executable).with_name("defectdesk"))

pytestmark = [
    pytest.mark.usefixtures("frozen"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="the drill restores PostgreSQL backups (pg_dump, pg_restore): it runs in the "
        "PostgreSQL run of the suite, not on SQLite",
    ),
]


def _cli(*args: str, media_root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DATABASE_URL=_database_url(), MEDIA_ROOT=str(media_root), DEFECTDESK_TESTING="1")
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [DEFECTDESK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _ledger_with_evidence(cast: dict[str, Any], make_event: Any) -> None:
    shop(make_event)
    defect = negative_feedback(make_event, order="111-0000009-0000009")
    alice = client_for(cast["alice"])
    appeal = alice.post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION},
        content_type="application/json",
    ).json()
    for name, content in (("label.png", png_bytes()), ("note 中文 🚚.txt", "送达 ✓\n".encode())):
        response = alice.post(
            f"/api/v1/appeals/{appeal['id']}/files", {"file": SimpleUploadedFile(name, content)}
        )
        assert response.status_code == 201, response.content


def test_a_backup_restores_whole_and_a_damaged_evidence_copy_is_named(
    cast: dict[str, Any], make_event: Any, media: Path, tmp_path: Path
) -> None:
    _ledger_with_evidence(cast, make_event)
    dump = tmp_path / "defectdesk.dump"
    made = _cli("backup", str(dump), "--samples", "3", media_root=media)
    assert made.returncode == 0, made.stderr
    manifest = orjson.loads((tmp_path / "defectdesk.dump.manifest.json").read_bytes())
    assert manifest["counts"]["ledger_order"] > 0
    assert set(manifest["health"]) == {"S-1/US", "S-2/US"}  # every seller, fewer than 3
    evidence = tmp_path / "evidence-backup"
    shutil.copytree(media, evidence)
    # Changes after the backup are not in it, and do not disturb the check.
    ingest(make_event(order="111-0000099-0000099", at="2026-10-05T12:00:00Z"))

    scratch = _database_url() + "_restore"
    checked = _cli(
        "restore-check",
        str(dump),
        "--scratch-database",
        scratch,
        "--evidence",
        str(evidence),
        media_root=media,
    )
    print("\n" + checked.stdout.strip())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "restore check passed" in checked.stdout
    assert "2 evidence files checked" in checked.stdout

    damaged = evidence / AppealFile.objects.order_by("pk").first().storage_name
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"X")
    (evidence / AppealFile.objects.order_by("pk").last().storage_name).unlink()
    failed = _cli(
        "restore-check",
        str(dump),
        "--scratch-database",
        scratch,
        "--evidence",
        str(evidence),
        media_root=media,
    )
    assert failed.returncode == 1
    assert (
        f"evidence file {AppealFile.objects.order_by('pk').first().storage_name} does not "
        "match its SHA-256" in failed.stderr
    )
    assert "is missing from the backup" in failed.stderr
    assert "found 2 problems" in failed.stderr


def test_restore_check_refuses_an_existing_database_and_a_bad_manifest(
    media: Path, tmp_path: Path
) -> None:
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"not a dump")
    (tmp_path / "x.dump.manifest.json").write_text("{}")
    bad = _cli("restore-check", str(dump), "--scratch-database", _database_url(), media_root=media)
    assert bad.returncode == 1
    assert "is not a backup manifest" in bad.stderr
    (tmp_path / "x.dump.manifest.json").write_text('{"counts": {}, "health": {}, "samples": []}')
    taken = _cli(
        "restore-check", str(dump), "--scratch-database", _database_url(), media_root=media
    )
    assert taken.returncode == 1
    assert "exists already" in taken.stderr
