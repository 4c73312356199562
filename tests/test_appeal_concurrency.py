"""Races settled in PostgreSQL: one decision per appeal, one open appeal per defect."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import resolve

from defectdesk.appeals.actions import appeal_assign, appeal_create, appeal_submit
from defectdesk.appeals.models import Appeal
from defectdesk.core.models import AuditEvent
from defectdesk.defects.models import Defect
from tests.test_appeal_support import EXPLANATION, NOW, negative_feedback

THREADS = 32
ROUNDS = 50


@pytest.fixture
def postgres_only(db: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


class Racers:
    """THREADS worker threads, each keeping its own database connection across rounds."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=THREADS)

    def race(self, calls: list[Callable[[], int]]) -> list[int]:
        """Run the calls at once (released together by a barrier); their sorted status codes."""
        barrier = threading.Barrier(len(calls))

        def run(call: Callable[[], int]) -> int:
            barrier.wait()
            try:
                return call()
            except Exception as exc:
                return int(getattr(exc, "status", 500))

        return sorted(self.pool.map(run, calls))

    def close(self) -> None:
        """Close every worker's connection (the barrier puts one task on each thread)."""
        barrier = threading.Barrier(THREADS)

        def close_own(_: int) -> None:
            barrier.wait()
            connection.close()

        list(self.pool.map(close_own, range(THREADS)))
        self.pool.shutdown()


@pytest.fixture
def racers() -> Iterator[Racers]:
    pool = Racers()
    yield pool
    pool.close()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    resolve("/api/v1/appeals")  # load the URLconf once, before the threads race for it
    return client


@pytest.mark.django_db(transaction=True)
def test_32_concurrent_decisions_leave_exactly_one(
    postgres_only: None, cast: dict[str, Any], make_event: Any, clock: None, racers: Racers
) -> None:
    reviewers = [_client(cast["rita"]) for _ in range(THREADS)]
    for n in range(ROUNDS):
        defect = negative_feedback(make_event, order=f"111-{n:07d}-0000001")
        appeal = appeal_submit(
            actor=cast["alice"],
            appeal=appeal_create(
                actor=cast["alice"], defect=defect, reason="other", explanation=EXPLANATION
            ),
        )
        appeal_assign(actor=cast["rita"], appeal=appeal, reviewer="rita")
        url = f"/api/v1/appeals/{appeal.pk}/decide"

        def decide(client: Client, verdict: str) -> Callable[[], int]:
            return lambda: (
                client.post(
                    url,
                    {"decision": verdict, "note": f"{verdict} it"},
                    content_type="application/json",
                ).status_code
            )

        codes = racers.race(
            [decide(c, "approve" if i % 2 else "deny") for i, c in enumerate(reviewers)]
        )
        assert codes == [200] + [409] * (THREADS - 1), codes
        appeal.refresh_from_db()
        decisions = AuditEvent.objects.filter(
            object_type="appeal",
            object_id=str(appeal.pk),
            action__in=["appeal.approve", "appeal.deny"],
        )
        assert decisions.count() == 1
        assert decisions.get().to_state == appeal.status
        defect.refresh_from_db()
        assert (defect.status == Defect.Status.REMOVED) == (appeal.status == "approved")


@pytest.mark.django_db(transaction=True)
def test_32_concurrent_filings_leave_exactly_one_open_appeal(
    postgres_only: None, cast: dict[str, Any], make_event: Any, clock: None, racers: Racers
) -> None:
    merchants = [_client(cast["alice"]) for _ in range(THREADS)]
    for n in range(ROUNDS):
        defect = negative_feedback(make_event, order=f"111-{n:07d}-0000002")
        body = {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION}

        def file(client: Client) -> Callable[[], int]:
            return lambda: (
                client.post("/api/v1/appeals", body, content_type="application/json").status_code
            )

        codes = racers.race([file(c) for c in merchants])
        assert codes == [201] + [409] * (THREADS - 1), codes
        assert Appeal.objects.filter(defect=defect).count() == 1
        assert (
            AuditEvent.objects.filter(action="appeal.create", data__defect=defect.pk).count() == 1
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_the_appeal_form_file_one_appeal_and_keep_one_file(
    postgres_only: None,
    cast: dict[str, Any],
    make_event: Any,
    clock: None,
    racers: Racers,
    settings: Any,
    tmp_path: Any,
) -> None:
    """A double (or octuple) click on `Submit appeal` with a file: one appeal, one file stored
    under its final name, and every other request's staged file deleted again."""
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from defectdesk.appeals.models import AppealFile
    from tests.test_appeal_support import png_bytes

    settings.MEDIA_ROOT = str(tmp_path / "media")
    clicks = 8
    merchants = [_client(cast["alice"]) for _ in range(clicks)]
    for n in range(5):
        defect = negative_feedback(make_event, order=f"111-{n:07d}-0000003")
        url = f"/defects/{defect.pk}/appeal/"

        def submit(client: Client) -> Callable[[], int]:
            form = {"reason": "other", "explanation": EXPLANATION, "action": "submit"}
            upload = SimpleUploadedFile("label.png", png_bytes())
            return lambda: client.post(url, {**form, "files": upload}).status_code

        codes = racers.race([submit(c) for c in merchants])
        assert codes == [302] * clicks, codes
        appeal = Appeal.objects.get(defect=defect)
        assert appeal.status == "submitted"
        names = list(AppealFile.objects.filter(appeal=appeal).values_list("storage_name"))
        assert len(names) == 1
    root = Path(settings.MEDIA_ROOT)
    stored = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert stored == sorted(AppealFile.objects.values_list("storage_name", flat=True))
    assert not any(name.startswith("appeals/staging/") for name in stored)
