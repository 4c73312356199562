"""The account status of every seller, recorded daily, with changes announced to the seller."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from defectdesk.accounts.models import Seller
from defectdesk.core.bulk import bulk_upsert
from defectdesk.core.timeutil import local_date, zone
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.core import health_json
from defectdesk.metrics.health import all_sellers_sums
from defectdesk.metrics.models import AccountStatusDay
from defectdesk.policy.selectors import policy_for
from defectdesk.webhooks.outbox import webhook_emit

COLUMNS = ["seller_id", "marketplace_id", "day", "status", "failing", "recorded_at"]


def account_status_announce(
    *, seller: Seller, marketplace: Marketplace, day: date, old: str, new: str, failing: list[str]
) -> None:
    """The one place a status change is announced (the notification outbox, in this transaction)."""
    from defectdesk.notify.actions import notify_users, seller_user_ids

    webhook_emit(
        "health.status_changed",
        {
            "seller": seller.external_id,
            "marketplace": marketplace.code,
            "as_of": day.isoformat(),
            "from": old,
            "to": new,
            "failing": failing,
        },
        seller_id=seller.id,
    )

    if new == AccountStatusDay.Status.AT_RISK:
        subject = f"Your account is at risk in {marketplace.code}"
        body = (
            f"As of {day.isoformat()}, {', '.join(m.replace('_', ' ') for m in failing)} "
            "missed its target. Open Account health to see the orders behind it."
        )
    else:
        subject = f"Your account is healthy again in {marketplace.code}"
        body = f"As of {day.isoformat()}, every metric meets its target."
    notify_users(
        user_ids=seller_user_ids(seller.id),
        subject=subject,
        body=body,
        link=f"{reverse('home')}?marketplace={marketplace.code}",
        object_type="account_status",
        object_id=seller.external_id,
    )


def account_status_record(day: date | None = None) -> dict[str, int]:
    """Record every seller's status as of `day` (default: today in each marketplace).

    Idempotent per day. A status that differs from the seller's previous recorded one (first
    recording: from healthy) is announced once.
    """
    recorded = changed = 0
    now = timezone.now()
    for market in Marketplace.objects.all():
        as_of = day or local_date(now, zone(market.timezone))
        policy = policy_for(market.id)
        sums = all_sellers_sums(as_of, market, policy)
        if not sums:
            continue
        with transaction.atomic():
            # The last status known: today's earlier recording, else the latest day before.
            previous: dict[int, str] = dict(
                AccountStatusDay.objects.filter(marketplace=market, day__lte=as_of)
                .order_by("day")
                .values_list("seller_id", "status")
            )
            sellers = Seller.objects.in_bulk(list(sums))
            rows = []
            for seller_id, s in sums.items():
                health = health_json("", market.code, as_of, s, policy)
                metrics = health["metrics"]
                assert isinstance(metrics, dict)
                failing = [name for name, m in metrics.items() if m["status"] == "bad"]
                status = str(health["account_status"])
                rows.append([seller_id, market.id, as_of, status, failing, now])
                before = previous.get(seller_id, AccountStatusDay.Status.HEALTHY)
                if status != before:
                    changed += 1
                    account_status_announce(
                        seller=sellers[seller_id],
                        marketplace=market,
                        day=as_of,
                        old=before,
                        new=status,
                        failing=failing,
                    )
            bulk_upsert(
                AccountStatusDay._meta.db_table,
                COLUMNS,
                rows,
                ["seller_id", "marketplace_id", "day"],
            )
            recorded += len(rows)
    return {"recorded": recorded, "changed": changed}
