"""The API's promises (DESIGN §8): a valid and complete OpenAPI document, one JSON error shape
with a stable code for every answer under /api/, and pagination that never fails."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

from defectdesk.accounts.actions import token_create
from defectdesk.api.errors import ALL_CODES
from defectdesk.core.actors import SYSTEM
from tests.test_appeal_support import negative_feedback

OPENAPI = "/api/v1/openapi.json"
HUGE = "9223372036854775807"
LISTS = [
    "/api/v1/orders",
    "/api/v1/defects",
    "/api/v1/appeals",
    "/api/v1/notifications",
    "/api/v1/sellers/S-1/at-risk",
    "/api/v1/sellers/S-1/appealable-defects",
    "/api/v1/sellers/S-1/health/order_defect_rate/orders",
]


@pytest.fixture
def schema(db: Any) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
        return dict(pairs)

    return json.loads(Client().get(OPENAPI).content, object_pairs_hook=no_duplicates)  # type: ignore[no-any-return]


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]


def test_the_served_document_passes_the_openapi_validator(schema: dict[str, Any]) -> None:
    validate(schema)
    print(f"openapi: valid {schema['openapi']} document, {len(_operations(schema))} operations")


def test_every_operation_is_named_tagged_scoped_and_documents_its_statuses(
    schema: dict[str, Any],
) -> None:
    tags = {t["name"]: t.get("description") for t in schema["tags"]}
    ids = [op["operationId"] for _, _, op in _operations(schema)]
    assert len(ids) == len(set(ids))
    for method, path, op in _operations(schema):
        where = f"{method} {path}"
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", op["operationId"]), where
        assert not op["operationId"].startswith("defectdesk"), where
        assert op["tags"] and all(tags.get(t) for t in op["tags"]), where
        assert "**Token scope:**" in op.get("description", ""), where
        responses = op["responses"]
        assert {"400", "401", "403", "404", "422", "429", "500"} <= set(responses), where
        success = [s for s in responses if s.startswith("2")]
        assert success and all(responses[s].get("content") for s in success), where
        for status, entry in responses.items():
            assert entry["headers"]["X-Request-ID"]["required"], where
            if status >= "400":
                ref = entry["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", where
        assert "Retry-After" in responses["429"]["headers"], where
        if op.get("requestBody"):
            assert {"413", "415"} <= set(responses), where
        if method == "post":
            names = [p["name"] for p in op.get("parameters", [])]
            assert "Idempotency-Key" in names, where
    assert {"appeals_submit", "health_get", "events_ingest", "review_decide"} <= set(ids)


def test_the_document_states_the_servers_constraints(schema: dict[str, Any]) -> None:
    defects = schema["paths"]["/api/v1/defects"]["get"]
    params = {p["name"]: p["schema"] for p in defects["parameters"]}
    assert params["page"]["minimum"] == 1 and params["page"]["maximum"] == 1_000_000
    assert params["page_size"]["maximum"] == 200
    assert "negative_feedback" in params["kind"]["enum"]
    health = schema["paths"]["/api/v1/sellers/{seller}/health"]["get"]
    as_of = next(p for p in health["parameters"] if p["name"] == "as_of")
    assert as_of["schema"]["format"] == "date"
    decide = schema["paths"]["/api/v1/appeals/{appeal_id}/decide"]["post"]
    body = decide["requestBody"]["content"]["application/json"]["schema"]
    body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert body["properties"]["decision"]["enum"] == ["approve", "deny"]
    assert body["additionalProperties"] is False
    appeal_id = schema["paths"]["/api/v1/appeals/{appeal_id}"]["get"]["parameters"][0]
    assert appeal_id["schema"]["maximum"] == 2**63 - 1
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]["code"]["enum"]) == set(ALL_CODES)
    create = schema["paths"]["/api/v1/appeals"]["post"]["responses"]["201"]
    assert create["links"]["SubmitAppeal"]["operationId"] == "appeals_submit"


@pytest.fixture
def seller(cast: dict[str, Any]) -> Client:
    raw = token_create(actor=SYSTEM, name="shop", seller="S-1")[1]
    return Client(headers={"Authorization": f"Bearer {raw}"}, raise_request_exception=False)


def _error(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.content
    assert reply["Content-Type"].startswith("application/json")
    body: dict[str, Any] = reply.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    assert reply["X-Request-ID"]
    return body


def test_an_unknown_path_is_a_json_404(seller: Client) -> None:
    _error(seller.get("/api/v1/nothing/here"), 404, "not_found")
    _error(Client().get("/api/v2/"), 404, "not_found")


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(seller: Client) -> None:
    reply = seller.delete("/api/v1/defects")
    _error(reply, 405, "method_not_allowed")
    assert reply["Allow"] == "GET"


def test_an_oversized_body_is_a_json_413(seller: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"defect": 1, "reason": "other", "explanation": "x" * 2000})
    _error(seller.post("/api/v1/appeals", body, content_type="application/json"), 413, "too_large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/csv"])
def test_a_body_in_another_media_type_is_a_415(seller: Client, content_type: str) -> None:
    reply = seller.post("/api/v1/appeals", '{"defect": 1}', content_type=content_type)
    body = _error(reply, 415, "unsupported_media_type")
    assert body["errors"][0]["field"] == "Content-Type"


@pytest.mark.parametrize(
    "body",
    [
        '{"defect": 1,',
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        "\xff\xfe",
        "NaN",
    ],
)
def test_invalid_or_deeply_nested_json_is_a_400(seller: Client, body: str) -> None:
    reply = seller.post("/api/v1/appeals", body, content_type="application/json")
    _error(reply, 400, "malformed_json")


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/appeals", {"defect": 1, "reason": "other", "explanation": "x", "admin": True}),
        ("/api/v1/orders/US/1/messages", {"body": "hi", "seller": "S-2"}),
        ("/api/v1/notifications/read", {"ids": [], "all": True}),
    ],
)
def test_an_unknown_field_is_a_422_naming_it(seller: Client, url: str, body: Any) -> None:
    reply = seller.post(url, body, content_type="application/json")
    found = _error(reply, 422, "invalid")
    assert any(e["field"] in ("admin", "seller", "all") for e in found["errors"]), found


def test_an_unhandled_failure_is_a_json_500_without_the_trace(
    seller: Client, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("internal marker 4f1c: secret stack detail")

    monkeypatch.setattr("defectdesk.api.defects.defects_visible_to", broken)
    reply = seller.get("/api/v1/defects")
    _error(reply, 500, "server_error")
    assert b"4f1c" not in reply.content and b"Traceback" not in reply.content


def test_a_401_carries_the_bearer_challenge(db: Any) -> None:
    for client in (Client(), Client(headers={"Authorization": "Bearer dd_00000000_nope"})):
        reply = client.get("/api/v1/defects")
        _error(reply, 401, "unauthenticated")
        assert reply["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("query", ["access_token={raw}", "token={raw}", "q={raw}", "api_key=x"])
def test_a_token_in_the_address_is_refused(cast: Any, query: str) -> None:
    raw = token_create(actor=SYSTEM, name="leaky", seller="S-1")[1]
    for client in (Client(), Client(headers={"Authorization": f"Bearer {raw}"})):
        reply = client.get(f"/api/v1/orders?{query.format(raw=raw)}")
        _error(reply, 400, "token_in_query")


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    "query",
    [
        f"page={HUGE}",
        f"page={HUGE}0",
        f"page_size={HUGE}",
        "page=0",
        "page=-1",
        "page_size=0",
        "page_size=201",
        "page=abc",
        "page_size=1e3",
        "page=" + "9" * 400,
    ],
)
def test_absurd_pages_are_a_422_on_every_list(
    seller: Client, cast: Any, make_event: Any, url: str, query: str
) -> None:
    negative_feedback(make_event)
    alice = Client(raise_request_exception=False)
    alice.force_login(cast["alice"])
    client = alice if "notifications" in url else seller
    sep = "&" if "?" in url else "?"
    body = _error(client.get(f"{url}{sep}{query}"), 422, "invalid")
    assert body["errors"][0]["field"] in ("page", "page_size"), body


@pytest.mark.parametrize("url", LISTS)
def test_a_page_past_the_end_is_empty(seller: Client, cast: Any, make_event: Any, url: str) -> None:
    negative_feedback(make_event)
    alice = Client()
    alice.force_login(cast["alice"])
    client = alice if "notifications" in url else seller
    reply = client.get(f"{url}?page=1000000&page_size=200")
    assert reply.status_code == 200, reply.content
    assert reply.json()["items"] == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/sellers/S-1/health?as_of=yesterday",
        "/api/v1/sellers/S-1/health/history?from=2026-13-01",
        "/api/v1/sellers/S-1/health/outlook?metric=nope",
        "/api/v1/defects?kind=nope",
        "/api/v1/orders?kind=nope",
        "/api/v1/appeals?status=nope",
        "/api/v1/appeals/reasons?kind=nope",
        "/api/v1/sellers/S-1/health/order_defect_rate/orders?part=nope",
        "/api/v1/orders?problem=maybe",
    ],
)
def test_a_bad_query_value_is_a_422_on_every_operation(
    seller: Client, make_event: Any, url: str
) -> None:
    negative_feedback(make_event)
    _error(seller.get(url), 422, "invalid")
