"""The demo marketplace: US, the cast of users, three sellers of different health, 120 days."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date

from django.db import transaction
from django.utils import timezone

from defectdesk.accounts.actions import membership_set, seller_ensure, user_create
from defectdesk.accounts.selectors import username_taken
from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.models import AuditEvent
from defectdesk.core.timeutil import zone
from defectdesk.ledger.actions import marketplace_set
from defectdesk.ledger.generator import demo_profiles, generate_events, write_ndjson
from defectdesk.ledger.importer import import_stream
from defectdesk.ledger.ingest import IngestResult
from defectdesk.ledger.rebuild import ledger_rebuild

DEMO_ACTOR = Actor(rule="demo")
DEMO_MARKETPLACE = ("US", "United States", "America/Los_Angeles", "USD")
DEMO_DAYS = 120
DEMO_ORDERS = 6000
DEMO_SEED = 2026
DEMO_ACTION = "demo.load"


@dataclass(frozen=True, slots=True)
class DemoSeller:
    external_id: str
    name: str
    health: str


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    password: str
    role: str
    seller: str | None = None


DEMO_SELLERS = (
    DemoSeller("S-1", "Cascade Kitchenware", "failing the Order Defect Rate"),
    DemoSeller("S-2", "Harbor Home Goods", "healthy"),
    DemoSeller("S-3", "Summit Gear Co.", "failing the late shipment rate"),
)

DEMO_LOGINS = (
    DemoLogin("alice", "demo-alice-2026", "owner", "S-1"),
    DemoLogin("bob", "demo-bob-2026", "read_only", "S-1"),
    DemoLogin("carol", "demo-carol-2026", "owner", "S-2"),
    DemoLogin("carol", "demo-carol-2026", "owner", "S-3"),
    DemoLogin("rita", "demo-rita-2026", "reviewer"),
    DemoLogin("otto", "demo-otto-2026", "operator"),
)


@dataclass(frozen=True, slots=True)
class DemoLoad:
    """What `demo_load` did: nothing (already loaded) or the import's counts."""

    already_loaded: bool
    end: date
    created: int = 0
    duplicates: int = 0
    rejected: int = 0


def _demo_marker(state: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(action=DEMO_ACTION, to_state=state).order_by("-id").first()


def _cast_ensure() -> None:
    """The demo's sellers and users, created if missing; an existing user gets the demo seller's
    membership back."""
    for seller in DEMO_SELLERS:
        seller_ensure(seller.external_id, name=seller.name)
    for login in DEMO_LOGINS:
        if username_taken(login.username):
            if login.seller:
                membership_set(
                    actor=DEMO_ACTOR,
                    username=login.username,
                    seller=login.seller,
                    role=login.role,
                )
            continue
        user_create(
            actor=DEMO_ACTOR,
            username=login.username,
            password=login.password,
            email=f"{login.username}@example.com",
            seller=login.seller,
            role=login.role if login.seller else None,
            reviewer=login.role == "reviewer",
            operator=login.role == "operator",
        )


def _ledger_import(*, orders: int, seed: int, end: date) -> IngestResult:
    """Generate the demo's ledger up to now and import it; RuntimeError if any event is refused."""
    code, _name, tz_name, currency = DEMO_MARKETPLACE
    ledger = io.BytesIO()
    # The generator covers the whole of the end day; the demo stops at the present moment.
    now = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = generate_events(
        orders=orders,
        profiles=demo_profiles(),
        days=DEMO_DAYS,
        seed=seed,
        end=end,
        marketplace=code,
        timezone=tz_name,
        currency=currency,
    )
    write_ndjson((e for e in events if e["occurred_at"] <= now), ledger)
    ledger.seek(0)
    result = import_stream(ledger, "ndjson")
    if result.rejected:
        first = result.rejected[0]
        detail = "; ".join(f"{e.field}: {e.message}" for e in first.errors)
        raise RuntimeError(
            f"the demo ledger was not accepted: {len(result.rejected)} events rejected, the first "
            f"{first.event_id or '?'} ({detail})"
        )
    return result


def demo_load(*, orders: int = DEMO_ORDERS, seed: int = DEMO_SEED) -> DemoLoad:
    """Load the demo marketplace once; later calls change nothing.

    The ledger ends on the day of the first load; an interrupted load resumes with the same
    day, so its events repeat as duplicates rather than add a second history.
    """
    loaded = _demo_marker("loaded")
    if loaded is not None:
        return DemoLoad(already_loaded=True, end=date.fromisoformat(loaded.data["end"]))
    if orders < 1:
        raise ValueError("the demo needs at least one order")
    code, name, tz_name, currency = DEMO_MARKETPLACE
    started = _demo_marker("started")
    if started is not None:
        end = date.fromisoformat(started.data["end"])
        orders, seed = int(started.data["orders"]), int(started.data["seed"])
    else:
        end = timezone.now().astimezone(zone(tz_name)).date()
    with transaction.atomic():
        _, zone_changed = marketplace_set(
            actor=DEMO_ACTOR, code=code, timezone=tz_name, currency=currency, name=name
        )
        _cast_ensure()
        if started is None:
            audit_record(
                actor=DEMO_ACTOR,
                action=DEMO_ACTION,
                object_type="marketplace",
                object_id=code,
                to_state="started",
                data={"end": end.isoformat(), "orders": orders, "seed": seed, "days": DEMO_DAYS},
            )
    if zone_changed:
        # An existing US marketplace had another zone: its order dates move with it.
        ledger_rebuild()
    result = _ledger_import(orders=orders, seed=seed, end=end)
    with transaction.atomic():
        audit_record(
            actor=DEMO_ACTOR,
            action=DEMO_ACTION,
            object_type="marketplace",
            object_id=code,
            from_state="started",
            to_state="loaded",
            data={
                "end": end.isoformat(),
                "orders": orders,
                "seed": seed,
                "days": DEMO_DAYS,
                "created": result.created,
                "duplicates": result.duplicates,
            },
        )
    return DemoLoad(
        already_loaded=False,
        end=end,
        created=result.created,
        duplicates=result.duplicates,
    )


def demo_logins_text(url: str) -> str:
    """The lines the demo prints: where to go and whom to sign in as."""
    sellers = {s.external_id: s for s in DEMO_SELLERS}
    lines = [f"DefectDesk demo: {url}", "", "Sign in as:"]
    seen: dict[str, list[DemoLogin]] = {}
    for login in DEMO_LOGINS:
        seen.setdefault(login.username, []).append(login)
    for username, logins in seen.items():
        roles = []
        for login in logins:
            if login.seller:
                s = sellers[login.seller]
                roles.append(
                    f"{login.role.replace('_', '-')} of {s.external_id} {s.name} ({s.health})"
                )
            else:
                roles.append(login.role)
        lines.append(f"  {username:<6} password {logins[0].password:<16} {'; '.join(roles)}")
    return "\n".join(lines)
