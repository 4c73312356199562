"""The demo marketplace: loaded once, with the cast and three sellers of different health."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.test import Client
from django.utils import timezone

from defectdesk.accounts.models import Membership, Seller, StaffRole
from defectdesk.core.models import AuditEvent
from defectdesk.demo.loader import DEMO_LOGINS, demo_load, demo_logins_text
from defectdesk.ledger.models import Event, Marketplace, Order
from tests.health import health_as_of


def snapshot() -> dict[str, Any]:
    return {
        "events": Event.objects.count(),
        "orders": Order.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "staff": StaffRole.objects.count(),
        "sellers": Seller.objects.count(),
        "marketplaces": Marketplace.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.mark.django_db
def test_demo_loads_once_and_a_second_load_changes_nothing() -> None:
    first = demo_load()
    assert not first.already_loaded
    assert first.created > 30_000 and first.duplicates == 0 and first.rejected == 0
    before = snapshot()
    second = demo_load()
    assert second.already_loaded and second.end == first.end
    assert snapshot() == before
    assert before["marketplaces"] == 1 and before["sellers"] == 3 and before["users"] == 5

    market = Marketplace.objects.get()
    assert (market.code, market.timezone, market.currency) == ("US", "America/Los_Angeles", "USD")
    names = dict(Seller.objects.values_list("external_id", "name"))
    assert names == {
        "S-1": "Cascade Kitchenware",
        "S-2": "Harbor Home Goods",
        "S-3": "Summit Gear Co.",
    }
    roles = set(Membership.objects.values_list("user__username", "seller__external_id", "role"))
    assert roles == {
        ("alice", "S-1", "owner"),
        ("bob", "S-1", "read_only"),
        ("carol", "S-2", "owner"),
        ("carol", "S-3", "owner"),
    }
    assert set(StaffRole.objects.values_list("user__username", "role")) == {
        ("rita", "reviewer"),
        ("otto", "operator"),
    }
    # The ledger covers 120 days ending today in the marketplace's zone.
    dates = Order.objects.values_list("order_date", flat=True)
    assert max(dates) == first.end
    assert (first.end - min(dates)).days == 119

    # The three sellers' health visibly differs.
    stats = {
        row["seller__external_id"]: row
        for row in Order.objects.values("seller__external_id").annotate(
            orders=Count("id"),
            late=Count("id", filter=Q(fulfillment="merchant", shipped_at__gt=F("ship_by"))),
            merchant=Count("id", filter=Q(fulfillment="merchant")),
        )
    }
    claims = {
        row["seller__external_id"]: row["n"]
        for row in Event.objects.filter(type__in=["claim.filed", "chargeback.filed"])
        .values("seller__external_id")
        .annotate(n=Count("seq"))
    }
    odr_like = {s: claims.get(s, 0) / stats[s]["orders"] for s in stats}
    late = {s: stats[s]["late"] / stats[s]["merchant"] for s in stats}
    assert odr_like["S-1"] > 0.01 > odr_like["S-2"]
    assert late["S-3"] > 0.04 > late["S-2"]
    assert late["S-1"] < 0.04

    # And so does the account health the merchants see today.
    health = {s: health_as_of(s, "US") for s in ("S-1", "S-2", "S-3")}
    statuses = {
        s: (h["account_status"], {m: v["status"] for m, v in h["metrics"].items()})
        for s, h in health.items()
    }
    assert statuses["S-1"][0] == "at_risk", statuses["S-1"]
    assert statuses["S-1"][1]["order_defect_rate"] == "bad"
    assert statuses["S-2"][0] == "healthy", statuses["S-2"]
    assert statuses["S-3"][0] == "at_risk", statuses["S-3"]
    assert statuses["S-3"][1]["late_shipment_rate"] == "bad"
    assert statuses["S-3"][1]["order_defect_rate"] == "good"


@pytest.mark.django_db
def test_demo_logins_sign_in_with_the_printed_passwords() -> None:
    demo_load(orders=50)
    text = demo_logins_text("http://127.0.0.1:8000/")
    assert "http://127.0.0.1:8000/" in text
    for login in DEMO_LOGINS:
        assert f"{login.username:<6} password {login.password}" in text
        assert Client().login(username=login.username, password=login.password), login.username


@pytest.mark.django_db
def test_an_interrupted_load_resumes_with_the_same_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    import defectdesk.demo.loader as demo

    record = demo.audit_record

    class Died(Exception):
        pass

    def die_before_loaded(**kwargs: Any) -> Any:
        if kwargs.get("to_state") == "loaded":
            raise Died  # as if the process died after the import
        return record(**kwargs)

    monkeypatch.setattr(demo, "audit_record", die_before_loaded)
    with pytest.raises(Died):
        demo_load(orders=50)
    monkeypatch.setattr(demo, "audit_record", record)
    end = AuditEvent.objects.get(action="demo.load", to_state="started").data["end"]
    assert not AuditEvent.objects.filter(action="demo.load", to_state="loaded").exists()
    events = Event.objects.count()
    again = demo_load(orders=5000)  # the first load's size and day win
    assert not again.already_loaded
    assert again.end.isoformat() == end
    assert (again.created, again.duplicates) == (0, events)
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_demo_command_no_serve_loads_twice_without_duplicates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from django.core.management import call_command

    call_command("demo", "--no-serve", "--orders", "60")
    first = capsys.readouterr().out
    before = snapshot()
    call_command("demo", "--no-serve", "--orders", "60")
    second = capsys.readouterr().out
    assert "loaded" in first and "already loaded" not in first
    assert "the demo is already loaded" in second
    assert snapshot() == before
    for out in (first, second):
        assert "alice  password demo-alice-2026" in out


@pytest.mark.django_db
def test_demo_refuses_a_us_marketplace_with_orders_in_another_currency(
    make_event: Any,
) -> None:
    from django.core.management import CommandError, call_command

    from defectdesk.ledger.ingest import Candidate, events_ingest

    Marketplace.objects.create(code="US", name="US", timezone="America/New_York", currency="EUR")
    placed = make_event(total={"amount": "19.99", "currency": "EUR"})
    assert events_ingest([Candidate(0, placed)]).created == 1
    with pytest.raises(CommandError, match="orders exist in EUR; the currency cannot change"):
        call_command("demo", "--no-serve", "--orders", "20")
    assert Order.objects.count() == 1
    assert not AuditEvent.objects.filter(action="demo.load").exists()
    assert get_user_model().objects.count() == 0


@pytest.mark.django_db
def test_demo_moves_an_existing_us_marketplace_to_its_zone() -> None:
    Marketplace.objects.create(code="US", name="US", timezone="Europe/Berlin", currency="USD")
    loaded = demo_load(orders=30)
    assert Marketplace.objects.get().timezone == "America/Los_Angeles"
    # Order dates are Los Angeles days: none after the end day, and the ledger stops now.
    last = max(Order.objects.values_list("order_date", flat=True))
    assert loaded.end - timedelta(days=1) <= last <= loaded.end
    assert max(Event.objects.values_list("occurred_at", flat=True)) <= timezone.now()
