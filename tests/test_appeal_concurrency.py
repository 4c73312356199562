"""Races settled in PostgreSQL: one decision per appeal, one open appeal per defect."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
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


def _race(calls: list[Callable[[], int]]) -> list[int]:
    """Run the calls at once, each on its own connection; their status codes."""
    barrier = threading.Barrier(len(calls))
    codes: list[int] = []
    lock = threading.Lock()

    def run(call: Callable[[], int]) -> None:
        try:
            barrier.wait()
            code = call()
        except Exception as exc:
            code = getattr(exc, "status", 500)
        finally:
            connection.close()
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(codes)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    resolve("/api/v1/appeals")  # load the URLconf once, before the threads race for it
    return client


@pytest.mark.django_db(transaction=True)
def test_32_concurrent_decisions_leave_exactly_one(
    postgres_only: None, cast: dict[str, Any], make_event: Any, clock: None
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

        codes = _race([decide(c, "approve" if i % 2 else "deny") for i, c in enumerate(reviewers)])
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
    postgres_only: None, cast: dict[str, Any], make_event: Any, clock: None
) -> None:
    merchants = [_client(cast["alice"]) for _ in range(THREADS)]
    for n in range(ROUNDS):
        defect = negative_feedback(make_event, order=f"111-{n:07d}-0000002")
        body = {"defect": defect.pk, "reason": "other", "explanation": EXPLANATION}

        def file(client: Client) -> Callable[[], int]:
            return lambda: (
                client.post("/api/v1/appeals", body, content_type="application/json").status_code
            )

        codes = _race([file(c) for c in merchants])
        assert codes == [201] + [409] * (THREADS - 1), codes
        assert Appeal.objects.filter(defect=defect).count() == 1
        assert (
            AuditEvent.objects.filter(action="appeal.create", data__defect=defect.pk).count() == 1
        )
