"""Evidence in S3-compatible object storage (django-storages), against moto's S3 server on
loopback: the appeal journey unchanged, downloads only through our permission check, and an
unreachable store refusing uploads with nothing saved."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from defectdesk.appeals.actions import appeal_attach, appeal_create
from defectdesk.appeals.filestore import STORE_UNAVAILABLE
from defectdesk.appeals.models import AppealFile
from defectdesk.core.errors import Unavailable
from defectdesk.core.models import AuditEvent
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    client_for,
    frozen,
    media,
    negative_feedback,
    png_bytes,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")

ROOT = Path(__file__).resolve().parents[1]
# Overridable so that runs side by side on one machine do not take each other's ports.
MOTO_PORT = int(os.environ.get("DEFECTDESK_TEST_MOTO_PORT", "18720"))
CLOSED_PORT = MOTO_PORT + 9  # nothing listens here: the store is unreachable
BUCKET = "defectdesk-evidence"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _s3_storages(port: int, bucket: str = BUCKET) -> dict[str, Any]:
    from botocore.config import Config

    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": f"http://127.0.0.1:{port}",
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": None,
                "file_overwrite": False,
                "client_config": Config(connect_timeout=1, retries={"max_attempts": 1}),
            },
        },
    }


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{MOTO_PORT}"
    finally:
        server.stop()


def _bucket(endpoint: str, name: str) -> Any:
    s3 = boto3.resource(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = s3.Bucket(name)
    if bucket.creation_date is None:
        bucket.create()
    return bucket


def _draft(cast: dict[str, Any], make_event: Any) -> tuple[Any, dict[str, Any]]:
    defect = negative_feedback(make_event)
    alice = client_for(cast["alice"])
    appeal = alice.post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION},
        content_type="application/json",
    ).json()
    return alice, appeal


def test_appeal_journey_passes_unchanged_with_evidence_in_s3(moto_server: str) -> None:
    bucket = _bucket(moto_server, "journey-evidence")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        CREDENTIALS,
        DEFECTDESK_TESTING="1",
        EVIDENCE_S3_BUCKET="journey-evidence",
        EVIDENCE_S3_ENDPOINT_URL=moto_server,
        EVIDENCE_S3_REGION="us-east-1",
        EVIDENCE_S3_PREFIX="evidence",
    )
    if env.get("DATABASE_URL", "").startswith("postgres"):
        # A database of its own: pytest-django names it test_<name>, beside this run's.
        env["DATABASE_URL"] = env["DATABASE_URL"].rstrip("/") + "_s3"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
            "-q",
            "tests/test_appeal_journey.py",
            "tests/browser/test_review_journey.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, summary
    keys = [item.key for item in bucket.objects.all()]
    print(f"\nappeal journey with S3 evidence: {summary}; {len(keys)} objects in the bucket")
    assert keys and all(key.startswith("evidence/appeals/") for key in keys), keys


def test_files_go_to_the_bucket_and_come_back_only_through_the_app(
    cast: dict[str, Any],
    make_event: Any,
    moto_server: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    bucket = _bucket(moto_server, BUCKET)
    with override_settings(STORAGES=_s3_storages(MOTO_PORT)):
        alice, appeal = _draft(cast, make_event)
        sent = png_bytes()
        with django_capture_on_commit_callbacks(execute=True):
            response = alice.post(
                f"/api/v1/appeals/{appeal['id']}/files",
                {"file": SimpleUploadedFile("label.png", sent)},
            )
        assert response.status_code == 201, response.content
        item = AppealFile.objects.get()
        # Staged, then promoted to its final key when the transaction committed.
        assert [o.key for o in bucket.objects.all()] == [item.storage_name]
        assert bucket.Object(item.storage_name).get()["Body"].read() == sent
        url = f"/api/v1/appeals/{appeal['id']}/files/{item.pk}"
        got = alice.get(url)
        assert got.status_code == 200
        assert b"".join(got.streaming_content) == sent
        # No address of the bucket is handed out: the bytes come through the permission check.
        assert "Location" not in got and BUCKET.encode() not in response.content
        assert client_for(cast["carol"]).get(url).status_code == 404


def test_an_unreachable_store_refuses_the_upload_and_saves_nothing(
    cast: dict[str, Any], make_event: Any
) -> None:
    with override_settings(STORAGES=_s3_storages(CLOSED_PORT)):
        alice, appeal = _draft(cast, make_event)
        attached_before = AuditEvent.objects.filter(action="appeal.attach").count()
        response = alice.post(
            f"/api/v1/appeals/{appeal['id']}/files",
            {"file": SimpleUploadedFile("label.png", png_bytes())},
        )
        assert response.status_code == 503
        body = response.json()
        assert body["detail"] == STORE_UNAVAILABLE
        assert body["errors"] == [{"field": "file", "message": STORE_UNAVAILABLE}]
        assert AppealFile.objects.count() == 0
        assert AuditEvent.objects.filter(action="appeal.attach").count() == attached_before
        assert "files were not saved" in STORE_UNAVAILABLE


def test_an_unreachable_store_is_named_on_the_appeal_form(
    cast: dict[str, Any], make_event: Any
) -> None:
    with override_settings(STORAGES=_s3_storages(CLOSED_PORT)):
        alice, appeal = _draft(cast, make_event)
        response = alice.post(
            f"/appeals/{appeal['id']}/",
            {
                "reason": "other",
                "explanation": EXPLANATION,
                "action": "save",
                "files": SimpleUploadedFile("label.png", png_bytes()),
            },
        )
        assert response.status_code == 200
        assert "The file store cannot be reached right now" in response.content.decode()
        assert AppealFile.objects.count() == 0


def test_a_store_failing_midway_removes_the_files_already_written(
    cast: dict[str, Any], make_event: Any, moto_server: str, monkeypatch: Any
) -> None:
    from botocore.exceptions import EndpointConnectionError
    from storages.backends.s3 import S3Storage

    bucket = _bucket(moto_server, "midway")
    real_save = S3Storage._save
    calls: list[str] = []

    def save_then_drop(self: Any, name: str, content: Any) -> Any:
        calls.append(name)
        if len(calls) == 2:  # the connection drops while the second file is sent
            raise EndpointConnectionError(endpoint_url=f"http://127.0.0.1:{MOTO_PORT}")
        return real_save(self, name, content)

    monkeypatch.setattr(S3Storage, "_save", save_then_drop)
    with override_settings(STORAGES=_s3_storages(MOTO_PORT, "midway")):
        _, appeal = _draft(cast, make_event)
        with pytest.raises(Unavailable):
            appeal_attach(
                actor=cast["alice"],
                appeal=appeal["id"],
                uploads=[("a.png", png_bytes()), ("b.png", png_bytes())],
            )
    assert len(calls) == 2
    assert list(bucket.objects.all()) == []  # the first file, written, was removed again
    assert AppealFile.objects.count() == 0


def test_appeal_create_needs_no_store(cast: dict[str, Any], make_event: Any) -> None:
    with override_settings(STORAGES=_s3_storages(CLOSED_PORT)):
        defect = negative_feedback(make_event)
        appeal = appeal_create(
            actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
        )
        assert appeal.pk
