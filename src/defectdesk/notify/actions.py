"""Notify users: outbox rows written in the caller's transaction, delivered after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext

from defectdesk.accounts.identity import identity_changed
from defectdesk.accounts.models import Membership, StaffRole
from defectdesk.accounts.selectors import languages_of_users
from defectdesk.core.language import language_supported
from defectdesk.notify.models import Notification, OutboxMessage

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 8


def seller_user_ids(seller_id: int) -> list[int]:
    """Everyone who works for a seller (owners, staff and read-only staff)."""
    return sorted(
        set(Membership.objects.filter(seller_id=seller_id).values_list("user_id", flat=True))
    )


def reviewer_user_ids() -> list[int]:
    return sorted(
        set(
            StaffRole.objects.filter(role=StaffRole.Role.REVIEWER).values_list("user_id", flat=True)
        )
    )


def absolute_url(path: str) -> str:
    """The address of a site path (from reverse()) as people open it: DEFECTDESK_BASE_URL + path."""
    if not path:
        return ""
    if not path.startswith("/"):
        raise ValueError(f"not a site path: {path!r}")
    return f"{settings.BASE_URL}{path}"


def notify_users(
    *,
    user_ids: Iterable[int],
    subject: str | Promise,
    body: str | Promise,
    link: str = "",
    object_type: str = "",
    object_id: object = "",
    actor_id: int | None = None,
    language: str = "",
) -> int:
    """Write an in-app and (where the user has an address) an e-mail outbox row per user.

    `link` is a site path built with reverse(); both rows carry its absolute address and the
    e-mail ends with it. The user who did the action (`actor_id`) is not told of it. Must run
    inside the caller's transaction: the rows commit or roll back with the change.

    `subject` and `body` may be lazy (gettext_lazy, `deferred`): each user gets them in the
    language they chose, else `language` (the marketplace's default), else English.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notify_users must run inside the action's transaction")
    ids = sorted(set(user_ids) - {actor_id})
    url = absolute_url(link)
    if not ids:
        return 0
    now = timezone.now()
    emails = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "email"))
    chosen = languages_of_users(ids)
    fallback = language_supported(language) or settings.LANGUAGE_CODE
    texts: dict[str, tuple[str, str, str]] = {}
    rows = []
    for user_id in ids:
        if user_id not in emails:
            continue
        lang = language_supported(chosen.get(user_id, "")) or fallback
        if lang not in texts:
            with translation.override(lang):
                text_subject, text_body = str(subject), str(body)
                link_line = gettext("Open it here: %(url)s") % {"url": url}
            texts[lang] = (
                text_subject,
                text_body,
                f"{text_body}\n\n{link_line}" if url else text_body,
            )
        text_subject, text_body, mail_body = texts[lang]
        common = {
            "user_id": user_id,
            "subject": text_subject[:200],
            "body": text_body,
            "link": url,
            "object_type": object_type,
            "object_id": str(object_id),
            "created_at": now,
            "available_at": now,
        }
        rows.append(OutboxMessage(channel=OutboxMessage.Channel.IN_APP, **common))
        if emails[user_id]:
            common["body"] = mail_body
            rows.append(
                OutboxMessage(channel=OutboxMessage.Channel.EMAIL, email=emails[user_id], **common)
            )
    OutboxMessage.objects.bulk_create(rows)
    transaction.on_commit(_kick_delivery)
    return len(rows)


def _kick_delivery() -> None:
    """Ask the worker to deliver now; the periodic delivery job picks up anything missed."""
    from defectdesk.notify.jobs import outbox_deliver_job

    try:
        outbox_deliver_job.enqueue()
    except Exception:  # the rows are durable; the periodic job delivers them anyway
        log.warning("could not enqueue outbox delivery", exc_info=True)


def _claim(limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due rows so that no other worker delivers them at the same time."""
    now = timezone.now()
    due = (
        OutboxMessage.objects.filter(
            delivered_at__isnull=True, failed_at__isnull=True, available_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    claimed = []
    for row_id in list(due):
        taken = (
            OutboxMessage.objects.filter(pk=row_id, delivered_at__isnull=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claimed_until=now + CLAIM_FOR)
        )
        if taken:
            claimed.append(row_id)
    return list(OutboxMessage.objects.filter(pk__in=claimed).order_by("id"))


def outbox_deliver(*, limit: int = 500) -> dict[str, int]:
    """Deliver due outbox rows (in-app and e-mail); returns counts of delivered and failed."""
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    for message in _claim(limit):
        try:
            if message.channel == OutboxMessage.Channel.EMAIL:
                # Network I/O happens outside any transaction.
                send_mail(
                    message.subject,
                    message.body,
                    settings.DEFAULT_FROM_EMAIL,
                    [message.email],
                    fail_silently=False,
                )
                OutboxMessage.objects.filter(pk=message.pk).update(
                    delivered_at=timezone.now(), claimed_until=None, attempts=message.attempts + 1
                )
            else:
                with transaction.atomic():
                    identity_changed(message.user_id)
                    Notification.objects.create(
                        user_id=message.user_id,
                        subject=message.subject,
                        body=message.body,
                        link=message.link,
                        object_type=message.object_type,
                        object_id=message.object_id,
                        created_at=message.created_at,
                        outbox=message,
                    )
                    OutboxMessage.objects.filter(pk=message.pk).update(
                        delivered_at=timezone.now(),
                        claimed_until=None,
                        attempts=message.attempts + 1,
                    )
            counts["delivered"] += 1
        except Exception as exc:
            attempts = message.attempts + 1
            now = timezone.now()
            gave_up = attempts >= MAX_ATTEMPTS
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=attempts,
                claimed_until=None,
                last_error=str(exc)[:2000],
                available_at=now + timedelta(minutes=2**attempts),
                failed_at=now if gave_up else None,
            )
            counts["failed" if gave_up else "retry"] += 1
            log.warning("outbox message %s not delivered: %s", message.pk, exc)
    return counts


def notification_mark_read(*, user_id: int, notification_ids: Iterable[int]) -> int:
    """Mark a user's own notifications read; returns how many changed."""
    changed = Notification.objects.filter(
        user_id=user_id, pk__in=list(notification_ids), read_at__isnull=True
    ).update(read_at=timezone.now())
    if changed:
        identity_changed(user_id)
    return changed
