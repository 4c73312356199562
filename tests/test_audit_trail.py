"""The audit trail: append-only in the database, and each event names its request."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from defectdesk.core.actors import SYSTEM, Actor
from defectdesk.core.audit import REQUEST_ID_HEADER, audit_record, request_id_from
from defectdesk.core.models import AuditEvent


def _row() -> AuditEvent:
    with transaction.atomic():
        return audit_record(actor=SYSTEM, action="test.mark", object_type="test", object_id=1)


@pytest.mark.django_db
def test_an_audit_row_cannot_be_updated() -> None:
    row = _row()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(note="changed")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("UPDATE core_auditevent SET action = 'x' WHERE id = %s", [row.pk])
    assert AuditEvent.objects.get(pk=row.pk).note == ""


@pytest.mark.django_db
def test_an_audit_row_cannot_be_deleted() -> None:
    row = _row()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("DELETE FROM core_auditevent WHERE id = %s", [row.pk])
    assert AuditEvent.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_a_user_with_audit_events_cannot_be_deleted(cast: dict[str, Any]) -> None:
    from django.db.models import ProtectedError

    with transaction.atomic():
        audit_record(
            actor=Actor(user=cast["rita"]), action="test.mark", object_type="test", object_id=2
        )
    with pytest.raises(ProtectedError), transaction.atomic():
        cast["rita"].delete()
    assert AuditEvent.objects.filter(actor=cast["rita"]).exists()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("abc-123", True), ("a" * 64, True), ("a" * 65, False), ("bad id", False), ("", False)],
)
def test_a_sent_request_id_is_kept_only_when_valid(sent: str, kept: bool) -> None:
    got = request_id_from(sent)
    assert (got == sent) is kept
    assert 1 <= len(got) <= 64


@pytest.mark.django_db
def test_a_request_writes_its_id_into_the_audit_event_and_the_response(
    cast: dict[str, Any],
) -> None:
    client = Client()
    client.force_login(cast["alice"])
    before = AuditEvent.objects.count()
    response = client.get("/", headers={REQUEST_ID_HEADER: "req-42"})
    assert response[REQUEST_ID_HEADER] == "req-42"
    other = client.get("/", headers={REQUEST_ID_HEADER: "no\x7fgood"})
    assert len(other[REQUEST_ID_HEADER]) == 32
    assert AuditEvent.objects.count() >= before
    with transaction.atomic():
        row = audit_record(actor=SYSTEM, action="test.mark", object_type="test", object_id=3)
    assert row.request_id == ""  # outside a request


@pytest.mark.django_db
def test_an_audit_event_written_while_serving_a_request_carries_its_id() -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from defectdesk.core.middleware import RequestIdMiddleware

    written: list[AuditEvent] = []

    def view(request: Any) -> HttpResponse:
        written.append(_row())
        return HttpResponse("ok")

    middleware = RequestIdMiddleware(view)
    response = middleware(RequestFactory().get("/", headers={REQUEST_ID_HEADER: "req-7"}))
    assert response[REQUEST_ID_HEADER] == "req-7"
    assert AuditEvent.objects.get(pk=written[0].pk).request_id == "req-7"
    fresh = middleware(RequestFactory().get("/"))
    assert AuditEvent.objects.get(pk=written[1].pk).request_id == fresh[REQUEST_ID_HEADER]
    assert _row().request_id == ""
