"""With a shared cache (Redis), the signed-in user, their roles and unread count, and the data
versions come from it, and any change to them is seen on the very next request."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings

from defectdesk.accounts.backends import CachedModelBackend
from defectdesk.accounts.identity import identity_cached, identity_changed
from defectdesk.accounts.models import Membership, Seller
from defectdesk.accounts.roles import principal_for_user
from defectdesk.core.datacache import shows_seller, version_of
from defectdesk.notify.actions import notification_mark_read, notify_users, outbox_deliver
from defectdesk.notify.models import Notification
from defectdesk.notify.selectors import unread_count
from tests.test_datacache import test_a_cached_result_lasts_until_its_sellers_data_changes

REDIS = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")


@pytest.fixture
def shared_cache() -> Iterator[None]:
    prefix = f"test-{uuid.uuid4().hex}"
    caches = {
        "default": {
            "BACKEND": "defectdesk.core.cache.SharedRedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": prefix,
        },
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    with override_settings(
        CACHES=caches,
        SHARED_CACHE=True,
        SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
    ):
        yield
    import redis

    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def test_the_user_and_roles_come_from_the_cache_after_the_first_request(
    cast: dict[str, Any], shared_cache: None, django_assert_num_queries: Any
) -> None:
    backend = CachedModelBackend()
    alice = cast["alice"]
    first = backend.get_user(alice.pk)
    assert first is not None
    with django_assert_num_queries(0):
        again = backend.get_user(alice.pk)
        assert again is not None
        assert principal_for_user(again).seller_roles == principal_for_user(first).seller_roles


def test_a_removed_membership_is_seen_on_the_next_request(
    cast: dict[str, Any], shared_cache: None
) -> None:
    backend = CachedModelBackend()
    bob = cast["bob"]
    seller_id = Membership.objects.get(user=bob).seller_id
    cached = backend.get_user(bob.pk)
    assert cached is not None and principal_for_user(cached).may_read_seller(seller_id)
    Membership.objects.filter(user=bob).delete()
    fresh = backend.get_user(bob.pk)
    assert fresh is not None and not principal_for_user(fresh).may_read_seller(seller_id)


def test_a_deactivated_user_is_signed_out_at_once(cast: dict[str, Any], shared_cache: None) -> None:
    backend = CachedModelBackend()
    carol = cast["carol"]
    assert backend.get_user(carol.pk) is not None
    carol.is_active = False
    carol.save()
    assert backend.get_user(carol.pk) is None


def test_a_change_made_while_an_entry_is_computed_is_never_served(
    cast: dict[str, Any], shared_cache: None
) -> None:
    user_id = cast["alice"].pk
    values = iter(["stale", "fresh"])

    def compute_racing_a_change() -> str:
        value = next(values)
        identity_changed(user_id)  # another request changes the user meanwhile
        return value

    assert identity_cached(user_id, "probe", compute_racing_a_change) == "stale"
    assert identity_cached(user_id, "probe", lambda: next(values)) == "fresh"


def test_the_unread_count_follows_new_and_read_notifications(
    cast: dict[str, Any], shared_cache: None, django_assert_num_queries: Any
) -> None:
    alice = cast["alice"]
    assert unread_count(alice) == 0
    with django_assert_num_queries(0):
        assert unread_count(alice) == 0
    with transaction.atomic():
        notify_users(user_ids=[alice.pk], subject="Appeal 1: decided", body="Approved.")
    outbox_deliver()
    assert unread_count(alice) == 1
    notification_mark_read(
        user_id=alice.pk, notification_ids=Notification.objects.values_list("pk", flat=True)
    )
    assert unread_count(alice) == 0


def test_signing_out_ends_the_session_for_every_process(
    cast: dict[str, Any], shared_cache: None
) -> None:
    browser = Client()
    assert browser.login(username="alice", password="correct-horse-1")
    assert browser.get("/orders/").status_code == 200
    session_cookie = browser.cookies["sessionid"].value
    browser.post("/signout/")
    # Another process, or a copied cookie, presenting the old session is sent to sign in.
    other = Client()
    other.cookies["sessionid"] = session_cookie
    response = other.get("/orders/")
    assert response.status_code == 302 and "/signin/" in response["Location"]


def test_the_signed_in_user_carries_a_fresh_unread_count(
    cast: dict[str, Any], shared_cache: None
) -> None:
    backend = CachedModelBackend()
    alice = cast["alice"]
    before = backend.get_user(alice.pk)
    assert before is not None and unread_count(before) == 0
    with transaction.atomic():
        notify_users(user_ids=[alice.pk], subject="Appeal 2: decided", body="Denied.")
    outbox_deliver()
    after = backend.get_user(alice.pk)
    assert after is not None and unread_count(after) == 1


def test_a_sellers_version_comes_from_the_cache_until_a_change_to_that_seller(
    marketplace: Any, make_event: Any, shared_cache: None, django_assert_num_queries: Any
) -> None:
    from defectdesk.ledger.ingest import Candidate, events_ingest

    for order, seller in (("O-1", "S-1"), ("O-2", "S-2")):
        assert not events_ingest([Candidate(0, make_event(order=order, seller=seller))]).rejected
    one = shows_seller(Seller.objects.get(external_id="S-1").pk)
    first = version_of(one)
    with django_assert_num_queries(0):
        assert version_of(one) == first
    assert not events_ingest([Candidate(0, make_event(order="O-3", seller="S-2"))]).rejected
    with django_assert_num_queries(0):
        assert version_of(one) == first  # another seller's change leaves it in place
    assert not events_ingest([Candidate(0, make_event(order="O-4", seller="S-1"))]).rejected
    assert version_of(one) != first


def test_cached_results_follow_each_sellers_changes_with_a_shared_cache(
    marketplace: Any, make_event: Any, shared_cache: None
) -> None:
    test_a_cached_result_lasts_until_its_sellers_data_changes(marketplace, make_event)


def test_a_page_reads_the_user_and_the_data_versions_in_two_round_trips(
    cast: dict[str, Any], shared_cache: None
) -> None:
    from django.core.cache import caches

    browser = Client()
    assert browser.login(username="alice", password="correct-horse-1")
    browser.get("/orders/")  # fills the entries
    shared = caches["default"]
    calls: list[str] = []
    original = shared.get_many

    def counted(keys: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(",".join(keys))
        return original(keys, *args, **kwargs)

    shared.get_many = counted  # type: ignore[method-assign]
    try:
        assert browser.get("/orders/").status_code == 200
    finally:
        del shared.get_many
    # The user with the version of data of no seller, then the seller's own version.
    assert len(calls) == 2, calls
    assert "data:version:0" in calls[0] and "identity:user" in calls[0]
    assert "data:version:" in calls[1]
