"""Every URL pattern and API operation, every method, as every role, token and anonymous, on other
sellers' real ids and unknown ids: 404 alike (or a role/method refusal), and nothing leaks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from defectdesk.policy.profile import METRICS
from tests.tenant_world import SellerData, World, bearer, foreign_markers, world_build
from tests.test_appeal_support import frozen, media  # noqa: F401

pytestmark = pytest.mark.usefixtures("media", "frozen", "worker_alive")

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# 404 for the object; 401/403/405 where the role or method is wrong; 400/422 for a body the
# matrix leaves empty; 302 only to a sign-in page.
# 415: a body in a media type the operation does not take is refused before any lookup.
REFUSALS = {400, 401, 403, 404, 405, 415, 422}
SIGN_IN = ("/signin/", "/admin/login/")

# How each endpoint is scoped. "public": no sign-in; "own-user": the signed-in user's own things;
# "seller-list": lists and pages of the sellers the principal may see (no object in the path);
# "seller-object": one object of a seller named in the path; "staff-only": reviewers/operators.
SCOPES: dict[str, str] = {
    "stripe-webhook": "public",
    "signin": "public",
    "signout": "public",
    "healthz": "public",
    "readyz": "public",
    "language_switch": "public",
    "glossary": "public",
    "password_reset": "public",
    "password_reset_done": "public",
    "password_reset_confirm": "public",
    "password_reset_complete": "public",
    "invitation": "public",  # the key in the path is the credential, like a reset link's
    "password_change": "own-user",
    "password_change_done": "own-user",
    "notifications": "own-user",
    "notifications_read": "own-user",
    "preferences": "own-user",
    "marketplace_switch": "own-user",
    "two_factor": "own-user",
    "two_factor_setup": "own-user",
    "two_factor_verify": "own-user",
    "home": "seller-list",
    "appealable": "seller-list",
    "metric_list": "seller-list",
    "orders": "seller-list",
    "orders_export": "seller-list",
    "appeals": "seller-list",
    "messages": "seller-list",
    "sellers": "seller-list",
    "users": "seller-list",
    "tokens": "seller-list",
    "order": "seller-object",
    "order_reply": "seller-object",
    "appeal_new": "seller-object",
    "appeal": "seller-object",
    "appeal_reply": "seller-object",
    "appeal_withdraw": "seller-object",
    "token_revoke": "seller-object",
    "mirror_home": "seller-list",
    "mirror_account_add": "seller-list",
    "mirror_upload": "seller-object",
    "mirror_reconcile": "seller-object",
    "mirror_enter": "seller-object",
    "mirror_plan": "seller-object",
    "mirror_connection": "seller-object",
    "mirror_case_new": "seller-object",
    "mirror_case": "seller-object",
    "review_queue": "staff-only",
    "review_stats": "staff-only",
    "review_appeal": "staff-only",
    "review_assign": "staff-only",
    "review_request_info": "staff-only",
    "review_decide": "staff-only",
    "review_file": "staff-only",
    "operator_home": "staff-only",
    "operator_marketplaces": "staff-only",
    "operator_policy": "staff-only",
    "operator_users": "staff-only",
    "operator_user_roles": "staff-only",
    "operator_tokens": "staff-only",
    "operator_token_revoke": "staff-only",
    "operator_audit": "staff-only",
    "operator_webhooks": "staff-only",
    "operator_stripe": "staff-only",
    "operator_webhook": "staff-only",
    "operator_webhook_rotate": "staff-only",
    "operator_webhook_disable": "staff-only",
    "operator_webhook_enable": "staff-only",
    "operator_webhook_resend": "staff-only",
    "admin:login": "public",
    "admin:logout": "public",
    "api:openapi-json": "public",
    "api:openapi-view": "public",
    "api:api-root": "public",
    "api:post_events": "staff-only",
    "api:list_reasons": "public",
    "api:create_appeal": "seller-list",
    "api:list_appeals": "seller-list",
    "api:get_appeal": "seller-object",
    "api:patch_appeal": "seller-object",
    "api:post_files": "seller-object",
    "api:get_file": "seller-object",
    "api:submit": "seller-object",
    "api:withdraw": "seller-object",
    "api:reply": "seller-object",
    "api:packet": "seller-object",
    "api:queue": "staff-only",
    "api:assign": "staff-only",
    "api:request_info": "staff-only",
    "api:decide": "staff-only",
    "api:list_notifications": "own-user",
    "api:mark_read": "own-user",
    "api:get_health": "seller-object",
    "api:get_history": "seller-object",
    "api:get_explain": "seller-object",
    "api:get_changes": "seller-object",
    "api:get_outlook": "seller-object",
    "api:get_metric_list": "seller-object",
    "api:get_appealable": "seller-object",
    "api:list_defects": "seller-list",
    "api:list_orders": "seller-list",
    "api:get_order": "seller-object",
    "api:post_reply": "seller-object",
    "api:list_at_risk": "seller-object",
    "api:endpoints_create": "staff-only",
    "api:endpoints_list": "staff-only",
    "api:endpoints_get": "staff-only",
    "api:endpoints_rotate": "staff-only",
    "api:endpoints_disable": "staff-only",
    "api:endpoints_enable": "staff-only",
    "api:deliveries_list": "staff-only",
    "api:deliveries_resend": "staff-only",
}
# Every view of the Django admin is wrapped by admin.site.admin_view (staff only).
NAMESPACE_SCOPES = {"admin": "staff-only"}
OPERATIONS: dict[str, str] = {
    "events_ingest": "staff-only",
    "appeals_reasons": "public",
    "appeals_create": "seller-list",
    "appeals_list": "seller-list",
    "appeals_get": "seller-object",
    "appeals_update": "seller-object",
    "appeals_files_add": "seller-object",
    "appeals_file_get": "seller-object",
    "appeals_submit": "seller-object",
    "appeals_withdraw": "seller-object",
    "appeals_reply": "seller-object",
    "appeals_packet": "seller-object",
    "review_queue": "staff-only",
    "review_assign": "staff-only",
    "review_request_info": "staff-only",
    "review_decide": "staff-only",
    "notifications_list": "own-user",
    "notifications_mark_read": "own-user",
    "health_get": "seller-object",
    "health_history": "seller-object",
    "health_explain": "seller-object",
    "health_changes": "seller-object",
    "health_outlook": "seller-object",
    "health_metric_orders": "seller-object",
    "health_appealable_defects": "seller-object",
    "defects_list": "seller-list",
    "orders_list": "seller-list",
    "orders_get": "seller-object",
    "orders_reply": "seller-object",
    "orders_at_risk": "seller-object",
    "webhooks_endpoints_list": "staff-only",
    "webhooks_endpoints_create": "staff-only",
    "webhooks_endpoints_get": "staff-only",
    "webhooks_endpoints_rotate": "staff-only",
    "webhooks_endpoints_disable": "staff-only",
    "webhooks_endpoints_enable": "staff-only",
    "webhooks_deliveries_list": "staff-only",
    "webhooks_deliveries_resend": "staff-only",
}
# Path parameters that name no seller's object: always filled with a real value.
NEUTRAL = {
    "marketplace",
    "code",
    "metric",
    "app_label",
    "content_type_id",
    "url",
    "token",
    "pk",
    "key",
}
# Webhook endpoints and deliveries belong to the marketplace, not to a seller: staff-only.
NEUTRAL |= {"endpoint_id", "delivery_id"}


@dataclass
class Endpoint:
    key: str
    name: str | None
    route: str
    params: tuple[str, ...]


def _walk(resolver: URLResolver, prefix: str = "", ns: str = "") -> Iterator[Endpoint]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{ns}:{entry.namespace}" if ns and entry.namespace else entry.namespace or ns
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{ns}:{entry.name}" if ns and entry.name else entry.name
            params = tuple(entry.pattern.regex.groupindex)
            yield Endpoint(name or f"{ns}:{prefix}{entry.pattern}", name, prefix, params)


def endpoints() -> list[Endpoint]:
    seen: dict[str, Endpoint] = {}
    for ep in _walk(get_resolver()):
        seen.setdefault(ep.key, ep)
    return list(seen.values())


def scope_of(ep: Endpoint) -> str | None:
    namespace = ep.key.split(":", 1)[0] if ":" in ep.key else ""
    return SCOPES.get(ep.key) or NAMESPACE_SCOPES.get(namespace)


def _values(sd: SellerData | None) -> dict[str, str]:
    """Path values naming `sd`'s objects, or unknown ones when `sd` is None."""
    if sd is None:
        return {
            "appeal_id": "999999",
            "file_id": "999999",
            "token_id": "999999",
            "user_id": "999999",
            "defect_id": "999999",
            "object_id": "999999",
            "id": "999999",
            "order_ref": "999-9999999-9999999",
            "order": "999-9999999-9999999",
            "seller": "S-999",
            "account_id": "999999",
            "case_id": "999999",
            "uidb64": urlsafe_base64_encode(force_bytes(999999)),
        }
    appeal, file_ = sd.files[0]
    return {
        "appeal_id": str(appeal),
        "file_id": str(file_),
        "token_id": str(sd.tokens[0]),
        "user_id": str(sd.users[0]),
        "defect_id": str(sd.defects[0]),
        "object_id": str(sd.appeals[0]),
        "id": str(sd.users[0]),
        "order_ref": sd.orders[0],
        "order": sd.orders[0],
        "seller": sd.ref,
        "account_id": str(sd.mirror_accounts[0]),
        "case_id": str(sd.mirror_cases[0]),
        "uidb64": urlsafe_base64_encode(force_bytes(sd.users[0])),
    }


NEUTRAL_VALUES = {
    "marketplace": "US",
    "code": "US",
    "metric": METRICS[0],
    "app_label": "auth",
    "content_type_id": "1",
    "url": "nowhere/",
    "token": "set-password",
    "key": "no-such-invitation",
    "pk": "1",  # the authenticator devices in the admin: staff-only
    "endpoint_id": "1",
    "delivery_id": "1",
}


def url_of(ep: Endpoint, values: dict[str, str]) -> str:
    kwargs = {p: (NEUTRAL_VALUES[p] if p in NEUTRAL else values[p]) for p in ep.params}
    if ep.name is None:
        return "/admin/" + kwargs.get("url", "")
    return reverse(ep.name, kwargs=kwargs)


@dataclass
class Who:
    name: str
    client: Client
    visible: set[str] | None  # None: staff, who see every seller
    user: Any = None


def _cast(cast: dict[str, Any], world: World) -> list[Who]:
    out = []
    for name, visible in (
        ("alice", {"S-1"}),
        ("bob", {"S-1"}),
        ("carol", {"S-2", "S-3"}),
        ("rita", None),
        ("otto", None),
    ):
        client = Client(raise_request_exception=False)
        client.force_login(cast[name])
        out.append(Who(name, client, visible, cast[name]))
    for key, visible in (
        ("token S-1", {"S-1"}),
        ("read-only token S-1", {"S-1"}),
        ("operator's token S-1", {"S-1"}),
        ("token S-2", {"S-2"}),
        ("ingest token", set()),
        ("review token", None),
        ("admin token", None),
    ):
        client = bearer(world.raw_tokens[key])
        client.raise_request_exception = False
        out.append(Who(key, client, visible))
    out.append(Who("anonymous", Client(raise_request_exception=False), set()))
    return out


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return str(response.content.decode("utf-8", "replace"))


class Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.leaks: list[str] = []
        self.failures: list[str] = []

    def call(self, who: Who, method: str, url: str) -> Any:
        self.requests += 1
        data = "{}" if method != "GET" else None
        kwargs: dict[str, Any] = {"content_type": "application/json"} if data else {}
        response = getattr(who.client, method.lower())(url, data, **kwargs)
        if response.status_code >= 500:
            self.failures.append(f"{who.name} {method} {url}: {response.status_code}")
        if who.user is not None and url == reverse("signout"):
            who.client.force_login(who.user)
        return response

    def leak_check(self, who: Who, method: str, url: str, response: Any, world: World) -> None:
        if who.visible is None:
            return
        body = _body(response)
        found = foreign_markers(body, who.visible)
        for ref, sd in world.sellers.items():
            if ref not in who.visible:
                found += [o for o in sd.orders if o in body and o not in url]
        if found:
            self.leaks.append(f"{who.name} {method} {url}: {sorted(set(found))[:5]}")


def _refused(response: Any) -> bool:
    if response.status_code in REFUSALS:
        return True
    return response.status_code == 302 and response["Location"].startswith(SIGN_IN)


def _fills(who: Who, world: World, ep: Endpoint) -> list[tuple[str, dict[str, str]]]:
    """The path values to try: each foreign seller's real ids, unknown ids, and for an appeal's
    file, the principal's own appeal with a foreign file."""
    unknown = _values(None)
    if who.visible is None:
        return [("unknown", unknown)]
    fills = [
        (f"foreign {ref}", _values(sd))
        for ref, sd in world.sellers.items()
        if ref not in who.visible
    ]
    own = [sd for ref, sd in world.sellers.items() if ref in who.visible]
    if own and "file_id" in ep.params:
        for label, values in list(fills):
            fills.append(
                (f"own appeal, {label} file", {**values, "appeal_id": str(own[0].appeals[0])})
            )
    return [*fills, ("unknown", unknown)]


def test_tenant_matrix(cast: dict[str, Any], make_event: Any, capsys: Any) -> None:
    started = time.monotonic()
    world = world_build(cast, make_event)
    eps = endpoints()
    unclassified = [ep.key for ep in eps if scope_of(ep) is None]
    schema = json.loads(Client().get("/api/v1/openapi.json").content)
    operations = [op for path in schema["paths"].values() for op in path.values()]
    unclassified += [o["operationId"] for o in operations if o["operationId"] not in OPERATIONS]
    tally = Tally()
    staff_refused: list[str] = []
    mismatched: list[str] = []
    cast_list = _cast(cast, world)
    merchants = {"alice", "bob", "carol"}
    for ep in eps:
        scope = scope_of(ep)
        for who in cast_list:
            object_params = [p for p in ep.params if p not in NEUTRAL]
            for method in METHODS:
                if not object_params:
                    url = url_of(ep, {})
                    response = tally.call(who, method, url)
                    tally.leak_check(who, method, url, response, world)
                    outsider = who.name in merchants | {"anonymous"}
                    if scope == "staff-only" and outsider and not _refused(response):
                        staff_refused.append(f"{who.name} {method} {url}")
                    continue
                answers: dict[str, tuple[int, str]] = {}
                for label, values in _fills(who, world, ep):
                    url = url_of(ep, values)
                    response = tally.call(who, method, url)
                    tally.leak_check(who, method, url, response, world)
                    if who.visible is not None and scope != "public":
                        answers[label] = (response.status_code, url)
                        if not _refused(response):
                            mismatched.append(
                                f"{who.name} {method} {url} ({label}): {response.status_code}"
                            )
                if len({status for status, _ in answers.values()}) > 1:
                    mismatched.append(f"{who.name} {method} {ep.key}: {answers}")
    covered = len(eps) + len(operations)
    lines = [
        f"tenant matrix: {tally.requests} requests as {len(cast_list)} principals",
        f"tenant matrix: {covered} endpoints covered "
        f"({len(eps)} URL patterns, {len(operations)} OpenAPI operations)",
        f"tenant matrix: {len(tally.leaks)} leaks",
        f"tenant matrix: {len(unclassified)} unclassified endpoints",
        f"tenant matrix: {len(mismatched) + len(staff_refused)} wrong answers, "
        f"{len(tally.failures)} server errors, {time.monotonic() - started:.1f} s",
    ]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert unclassified == [], unclassified
    assert tally.leaks == [], tally.leaks[:20]
    assert tally.failures == [], tally.failures[:20]
    assert staff_refused == [], staff_refused[:20]
    assert mismatched == [], mismatched[:20]
