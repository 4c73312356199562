"""Requests an attacker crafts (thousands of parameters, JSON nested thousands deep, a cookie of
another site, a CSRF token of another session, a foreign Host) get a clear refusal, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from defectdesk.accounts.actions import token_create
from defectdesk.accounts.models import UserPreference
from defectdesk.core.actors import SYSTEM

MANY = "&".join(f"p{i}=1" for i in range(10_000))
DEEP_ARRAY = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000


def _signed_in(user: Any, **extra: Any) -> Client:
    client = Client(raise_request_exception=False, **extra)
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["/api/v1/orders", "/api/v1/appeals", "/api/v1/defects"])
def test_ten_thousand_query_parameters_to_the_api_are_a_json_400(cast: Any, url: str) -> None:
    reply = _signed_in(cast["alice"]).get(f"{url}?{MANY}")
    assert reply.status_code == 400
    assert reply["Content-Type"].startswith("application/json")
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    assert reply.json()["detail"] == f"The request has more than {limit} parameters."
    assert reply.json()["errors"] == [{"field": "query", "message": f"at most {limit}"}]


@pytest.mark.parametrize("url", ["/orders/", "/appeals/", "/signin/"])
def test_ten_thousand_query_parameters_to_a_page_are_a_400_that_says_so(
    cast: Any, url: str
) -> None:
    reply = _signed_in(cast["alice"]).get(f"{url}?{MANY}")
    assert reply.status_code == 400
    assert b"more than 1000 parameters" in reply.content


def test_ten_thousand_form_fields_are_a_400_that_says_so(cast: Any) -> None:
    fields = {f"f{i}": "1" for i in range(10_000)}
    reply = _signed_in(cast["alice"]).post("/settings/you/", fields)
    assert reply.status_code == 400
    assert b"more than 1000 parameters" in reply.content


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize(
    "method,url", [("post", "/api/v1/appeals"), ("post", "/api/v1/notifications/read")]
)
def test_json_nested_ten_thousand_deep_is_a_clear_400(
    cast: Any, body: str, method: str, url: str
) -> None:
    reply = getattr(_signed_in(cast["alice"]), method)(url, body, content_type="application/json")
    assert reply.status_code == 400, reply.content[:200]
    answer = reply.json()
    assert answer["code"] == "malformed_json", answer
    assert "not valid JSON" in answer["detail"] and "depth" in answer["detail"], answer


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_ten_thousand_deep_to_the_event_feed_is_a_clear_400(
    cast: Any, body: str
) -> None:
    raw = token_create(actor=SYSTEM, name="feed", scopes=["ingest"])[1]
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
    reply = client.post("/api/v1/events", body, content_type="application/json")
    assert reply["Content-Type"].startswith("application/json")
    if reply.status_code == 200:  # a line the feed cannot read is rejected, naming why
        (rejected,) = reply.json()["rejected"]
        assert "depth" in rejected["errors"][0]["message"] and reply.json()["created"] == 0
    else:
        assert reply.status_code == 400 and reply.json()["detail"]


@pytest.mark.parametrize("url", ["/orders/", "/api/v1/orders", "/signin/", "/healthz"])
def test_a_host_not_allowed_is_a_400_naming_the_host_header(url: str) -> None:
    reply = Client(raise_request_exception=False).get(url, HTTP_HOST="attacker.example")
    assert reply.status_code == 400
    if url.startswith("/api/"):
        assert reply.json()["errors"] == [
            {"field": "Host", "message": "is not a name this site answers to"}
        ]
    else:
        assert b"Host" in reply.content and b"attacker.example" not in reply.content


@pytest.mark.parametrize(
    "cookie",
    [
        "s%3Aj4Xn1dP0.9QvYb2kS1Yl6b0oPq9mEw",  # another framework's signed session
        "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjoiYWxpY2UifQ.c2lnbmF0dXJl",  # a JWT
        "\u00e9t\u00e9",
        "x" * 4000,
    ],
)
def test_a_session_cookie_of_another_site_signs_no_one_in(cast: Any, cookie: str) -> None:
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = cookie
    page = client.get("/orders/")
    assert page.status_code == 302 and page["Location"].startswith("/signin/")
    api = client.get("/api/v1/orders")
    assert api.status_code == 401 and api["WWW-Authenticate"].startswith("Bearer")
    write = client.post("/api/v1/appeals", "{}", content_type="application/json")
    assert write.status_code == 401


def _form_token(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("planted", [False, True], ids=["token", "token-and-cookie"])
def test_a_csrf_token_of_another_session_is_refused(cast: Any, planted: bool) -> None:
    """Also when the other session's CSRF cookie is planted beside its token (a sibling
    subdomain can set cookies): the token is bound to the session, not to a cookie."""
    mallory = Client(enforce_csrf_checks=True)
    mallory.force_login(cast["carol"])
    stolen = _form_token(mallory, "/settings/you/")
    alice = Client(enforce_csrf_checks=True, raise_request_exception=False)
    alice.force_login(cast["alice"])
    _form_token(alice, "/settings/you/")
    if planted and settings.CSRF_COOKIE_NAME in mallory.cookies:
        alice.cookies[settings.CSRF_COOKIE_NAME] = mallory.cookies[settings.CSRF_COOKIE_NAME].value
    refused = alice.post(
        "/settings/you/", {"csrfmiddlewaretoken": stolen, "time_zone": "Europe/Berlin"}
    )
    assert refused.status_code == 403
    assert b"The form has expired" in refused.content
    assert not UserPreference.objects.filter(user=cast["alice"], time_zone="Europe/Berlin")
    api = alice.post(
        "/api/v1/notifications/read",
        "{}",
        content_type="application/json",
        headers={"X-CSRFToken": stolen},
    )
    assert api.status_code in (401, 403)
    own = alice.post(
        "/settings/you/",
        {"csrfmiddlewaretoken": _form_token(alice, "/settings/you/"), "time_zone": "Asia/Shanghai"},
    )
    assert own.status_code == 302
