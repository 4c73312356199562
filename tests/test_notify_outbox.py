"""The notification outbox: written with the change, delivered after commit, retried on failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from defectdesk.notify.actions import (
    MAX_ATTEMPTS,
    notification_mark_read,
    notify_users,
    outbox_deliver,
    reviewer_user_ids,
    seller_user_ids,
)
from defectdesk.notify.models import Notification, OutboxMessage
from defectdesk.notify.selectors import notifications_for, unread_count
from tests.test_appeal_support import NOW


def _notify(*users: Any, subject: str = "Appeal 1: submitted") -> int:
    with transaction.atomic():
        return notify_users(
            user_ids=[u.pk for u in users],
            subject=subject,
            body="Body.",
            link="/appeals/1/",
            object_type="appeal",
            object_id=1,
        )


def test_rows_roll_back_with_the_change_that_wrote_them(cast: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        notify_users(user_ids=[cast["alice"].pk], subject="s", body="b")
        raise RuntimeError("boom")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_notifying_outside_a_transaction_is_a_programming_error(cast: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        notify_users(user_ids=[cast["alice"].pk], subject="s", body="b")


def test_in_app_and_email_are_delivered_once(cast: dict[str, Any]) -> None:
    cast["alice"].email = "alice@example.com"
    cast["alice"].save()
    assert _notify(cast["alice"], cast["bob"]) == 3  # bob has no address: in-app only
    assert outbox_deliver() == {"delivered": 3, "retry": 0, "failed": 0}
    assert outbox_deliver() == {"delivered": 0, "retry": 0, "failed": 0}
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert mail.outbox[0].subject == "Appeal 1: submitted"
    assert [n.subject for n in notifications_for(cast["alice"])] == ["Appeal 1: submitted"]
    assert unread_count(cast["bob"]) == 1
    assert notifications_for(None).count() == 0


def test_a_failing_mail_server_is_retried_with_backoff_then_given_up(
    cast: dict[str, Any], settings: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.test_notify_outbox.BrokenBackend"
    cast["alice"].email = "alice@example.com"
    cast["alice"].save()
    with time_machine.travel(NOW, tick=False) as clock:
        _notify(cast["alice"])
        assert outbox_deliver() == {"delivered": 1, "retry": 1, "failed": 0}
        email = OutboxMessage.objects.get(channel="email")
        assert email.attempts == 1 and "refused" in email.last_error
        assert email.available_at == NOW + timedelta(minutes=2)
        assert outbox_deliver() == {"delivered": 0, "retry": 0, "failed": 0}  # not due yet
        for _ in range(MAX_ATTEMPTS - 1):
            clock.shift(timedelta(days=1))
            outbox_deliver()
    email.refresh_from_db()
    assert email.attempts == MAX_ATTEMPTS and email.failed_at is not None
    assert email.delivered_at is None


def test_a_user_marks_only_their_own_notifications_read(cast: dict[str, Any]) -> None:
    _notify(cast["alice"], cast["carol"])
    outbox_deliver()
    carols = Notification.objects.get(user=cast["carol"])
    assert notification_mark_read(user_id=cast["alice"].pk, notification_ids=[carols.pk]) == 0
    assert notification_mark_read(user_id=cast["carol"].pk, notification_ids=[carols.pk]) == 1
    assert unread_count(cast["carol"]) == 0 and unread_count(cast["alice"]) == 1


def test_recipients_are_the_sellers_people_and_the_reviewers(cast: dict[str, Any]) -> None:
    from defectdesk.accounts.models import Seller

    s1 = Seller.objects.get(external_id="S-1")
    assert seller_user_ids(s1.pk) == sorted([cast["alice"].pk, cast["bob"].pk])
    assert reviewer_user_ids() == [cast["rita"].pk]


def test_commit_asks_the_worker_to_deliver(
    cast: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify(cast["alice"])
    assert len(callbacks) == 1
    assert DBTaskResult.objects.filter(task_path__endswith="outbox_deliver_job").count() == 1


class BrokenBackend:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("the mail server refused the connection")

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass
