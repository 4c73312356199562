"""Three sellers with orders, defects, appeals, files, messages, tokens and notifications, every
text field of each seller marked `CANARY-S<n>-<k>`, for the tenant matrix and the canary scan."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from defectdesk.accounts.actions import invitation_create, token_create, user_create
from defectdesk.accounts.models import Membership, Seller
from defectdesk.appeals.actions import (
    appeal_assign,
    appeal_attach,
    appeal_create,
    appeal_decide,
    appeal_reply,
    appeal_request_info,
    appeal_submit,
)
from defectdesk.appeals.models import Appeal, AppealFile
from defectdesk.core.actors import SYSTEM, Actor
from defectdesk.defects.models import Defect
from defectdesk.ledger.models import Order
from defectdesk.messaging.actions import message_reply
from defectdesk.notify.actions import outbox_deliver
from tests.test_appeal_support import EXPLANATION, ingest, png_bytes

MARKER = re.compile(r"canary-s(\d)-\d+", re.IGNORECASE)
PASSWORD = "correct-horse-1"


@dataclass
class SellerData:
    """The real ids of one seller's objects."""

    ref: str
    pk: int = 0
    orders: list[str] = field(default_factory=list)
    defects: list[int] = field(default_factory=list)
    appeals: list[int] = field(default_factory=list)
    files: list[tuple[int, int]] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    mirror_accounts: list[int] = field(default_factory=list)
    mirror_cases: list[int] = field(default_factory=list)


@dataclass
class World:
    sellers: dict[str, SellerData]
    raw_tokens: dict[str, str]
    markers: dict[str, list[str]]


class _Marks:
    """Hands out the next marker of a seller and remembers them all."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.made: dict[str, list[str]] = {}

    def __call__(self, seller: str) -> str:
        marker = f"CANARY-{seller.replace('-', '')}-{next(self.counter)}"
        self.made.setdefault(seller, []).append(marker)
        return marker


def _order_events(mark: _Marks, seller: str, order: str, n: int, make_event: Any) -> list[Any]:
    """An order delivered and then given a 1-star feedback, with every text field marked."""
    return [
        make_event(
            order=order,
            seller=seller,
            at="2026-10-01T12:00:00Z",
            buyer=mark(seller),
            payment_ref=mark(seller),
            items=[{"sku": mark(seller), "title": mark(seller), "quantity": 1, "price": "19.99"}],
        ),
        make_event(
            "order.shipped",
            order=order,
            seller=seller,
            at="2026-10-02T10:00:00Z",
            carrier=mark(seller),
            tracking_number=mark(seller),
            service=mark(seller),
        ),
        make_event(
            "shipment.scanned",
            order=order,
            seller=seller,
            at="2026-10-02T18:00:00Z",
            status="accepted",
            location=mark(seller),
        ),
        make_event(
            "message.received",
            order=order,
            seller=seller,
            at="2026-10-03T08:00:00Z",
            message_id=mark(seller),
            body=f"Where is it? {mark(seller)}",
        ),
        make_event(
            "order.delivered", order=order, seller=seller, at="2026-10-05T15:00:00Z", signature=True
        ),
        make_event(
            "feedback.posted",
            order=order,
            seller=seller,
            at="2026-10-06T09:00:00Z",
            feedback_id=mark(seller),
            rating=1,
            comment=f"Arrived late {mark(seller)}",
        ),
        make_event(
            "return.requested",
            order=order,
            seller=seller,
            at="2026-10-06T10:00:00Z",
            reason=f"Broken {mark(seller)} {n}",
        ),
    ]


def _appeal(mark: _Marks, seller: str, user: Any, order: str) -> tuple[Appeal, AppealFile]:
    defect = Defect.objects.filter(order__order_ref=order, kind="negative_feedback").get()
    appeal = appeal_create(
        actor=user,
        defect=defect,
        reason="product_review_only",
        explanation=f"{EXPLANATION} {mark(seller)}",
    )
    files = appeal_attach(
        actor=user, appeal=appeal, uploads=[(f"{mark(seller)}.png", png_bytes("red"))]
    )
    appeal_submit(actor=user, appeal=appeal)
    return appeal, files[0]


def world_build(cast: dict[str, Any], make_event: Any) -> World:
    """Seed S-1 (alice, bob), S-2 and S-3 (carol, dave) with marked data and staff actions."""
    mark = _Marks()
    users = get_user_model()
    carol, alice, rita, otto = cast["carol"], cast["alice"], cast["rita"], cast["otto"]
    for name in ("alice", "bob"):
        users.objects.filter(username=name).update(email=f"{name}@s1.example")
    users.objects.filter(username="carol").update(email=f"{mark('S-2').lower()}@s2.example")
    rita.email = "rita@staff.example"
    rita.save(update_fields=["email"])
    user_create(
        actor=SYSTEM,
        username=mark("S-2").lower(),
        password=PASSWORD,
        email=f"{mark('S-2').lower()}@s2.example",
        seller="S-2",
        role="read_only",
    )
    user_create(actor=SYSTEM, username="s3-owner", password=PASSWORD, seller="S-3", role="owner")
    s3 = Seller.objects.get(external_id="S-3")
    Membership.objects.create(user=carol, seller=s3, role=Membership.Role.OWNER)
    for ref in ("S-1", "S-2", "S-3"):
        Seller.objects.filter(external_id=ref).update(name=mark(ref))

    owners = {"S-1": alice, "S-2": carol, "S-3": carol}
    prefixes = {"S-1": "111", "S-2": "222", "S-3": "333"}
    events: list[Any] = []
    orders: dict[str, list[str]] = {}
    for ref, prefix in prefixes.items():
        orders[ref] = [f"{prefix}-000000{n}-000000{n}" for n in (1, 2)]
        for n, order in enumerate(orders[ref]):
            events += _order_events(mark, ref, order, n, make_event)
    # An event of S-2 sent before S-1's order.placed with the same reference.
    shared = "111-0000009-0000009"
    ingest(*events)
    ingest(
        make_event(
            "message.received",
            order=shared,
            seller="S-2",
            at="2026-09-30T08:00:00Z",
            message_id=mark("S-2"),
            body=f"Early {mark('S-2')}",
        )
    )
    ingest(make_event(order=shared, seller="S-1", at="2026-10-01T12:00:00Z"))
    orders["S-1"].append(shared)

    data = {ref: SellerData(ref=ref, orders=orders[ref]) for ref in prefixes}
    for ref, sd in data.items():
        seller = Seller.objects.get(external_id=ref)
        sd.pk = seller.pk
        owner = owners[ref]
        order = Order.objects.get(order_ref=sd.orders[0])
        message_reply(
            actor=Actor(user=owner),
            principal=_principal(owner),
            order=order,
            body=f"Sorry {mark(ref)}",
        )
        invitation_create(
            actor=Actor(user=owner),
            seller=seller,
            email=f"{mark(ref).lower()}@{ref.lower()}.example",
            role="staff",
        )
        first, first_file = _appeal(mark, ref, owner, sd.orders[0])
        second, second_file = _appeal(mark, ref, owner, sd.orders[1])
        appeal_assign(actor=rita, appeal=first, reviewer="rita")
        appeal_request_info(actor=rita, appeal=first, question=f"Photo please {mark(ref)}")
        appeal_reply(
            actor=owner,
            appeal=first,
            message=f"Here it is {mark(ref)}",
            uploads=[(f"{mark(ref)}.png", png_bytes("blue"))],
        )
        appeal_assign(actor=rita, appeal=second, reviewer="rita")
        appeal_decide(actor=rita, appeal=second, decision="deny", note=f"No {mark(ref)}")
        sd.appeals = [first.pk, second.pk]
        sd.files = [(first.pk, first_file.pk), (second.pk, second_file.pk)]
        sd.defects = list(
            Defect.objects.filter(seller_id=seller.pk).order_by("pk").values_list("pk", flat=True)
        )
        sd.users = list(
            Membership.objects.filter(seller=seller)
            .exclude(user__in=[carol] if ref == "S-3" else [])
            .values_list("user_id", flat=True)
        )
    for ref, sd in data.items():
        _mirror(sd, owners[ref], mark)
    outbox_deliver()

    raw: dict[str, str] = {}
    for key, ref, actor, ro in (
        ("token S-1", "S-1", Actor(user=alice), False),
        ("read-only token S-1", "S-1", Actor(user=alice), True),
        ("operator's token S-1", "S-1", Actor(user=otto), False),
        ("token S-2", "S-2", Actor(user=carol), False),
        ("token S-3", "S-3", Actor(user=carol), False),
    ):
        token, secret = token_create(
            actor=actor, name=f"{key} {mark(ref)}", seller=ref, read_only=ro
        )
        raw[key] = secret
        data[ref].tokens.append(token.pk)
    for scope in ("ingest", "review", "admin"):
        _, raw[f"{scope} token"] = token_create(actor=SYSTEM, name=scope, scopes=[scope])
    return World(sellers=data, raw_tokens=raw, markers=mark.made)


def _mirror(sd: SellerData, owner: Any, mark: _Marks) -> None:
    """An Amazon account with a Plan of Action for each seller (mirror mode's objects)."""
    from defectdesk.mirror.actions import case_edit, mirror_account_create, plan_of_action_build

    account = mirror_account_create(actor=owner, seller=sd.pk, site="amazon.com")
    case = plan_of_action_build(actor=owner, account=account)
    case_edit(actor=owner, case=case, body=f"Plan {mark(sd.ref)}")
    sd.mirror_accounts = [account.pk]
    sd.mirror_cases = [case.pk]


def _principal(user: Any) -> Any:
    from defectdesk.appeals.selectors import principal_of

    return principal_of(user)


def bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def foreign_markers(text: str, visible: set[str]) -> list[str]:
    """The markers in `text` of sellers outside `visible` (seller refs like "S-1")."""
    return [m.group(0) for m in MARKER.finditer(text) if f"S-{m.group(1)}" not in visible]
