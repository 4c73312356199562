"""Input no view can use (NUL characters, pages past any end, a multipart-typed JSON body) is
refused clearly instead of reaching the database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

NUL_QUERIES = [
    "/api/v1/orders?q=%00",
    "/api/v1/orders?seller=%00",
    "/api/v1/orders?problem=%00",
    "/api/v1/appeals?status=%00",
]
NUL_PATHS = ["/api/v1/sellers/%00/health", "/api/v1/orders/US/%00"]
WEB_NUL = ["/orders/?q=%00", "/appeals/?q=%00", "/messages/?q=%00", "/?seller=%00"]
FAR = "9223372036854775807"


def _signed_in(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", NUL_QUERIES)
def test_nul_in_an_api_query_parameter_is_a_400_naming_it(cast: Any, url: str) -> None:
    reply = _signed_in(cast["alice"]).get(url)
    assert reply.status_code == 400
    field = url.split("?")[1].split("=")[0]
    assert reply.json()["errors"] == [
        {"field": field, "message": "must not contain NUL characters"}
    ]


@pytest.mark.parametrize("url", [*NUL_PATHS, "/orders/US/%00/"])
def test_nul_in_a_path_is_a_404(cast: Any, url: str) -> None:
    assert _signed_in(cast["alice"]).get(url).status_code == 404


@pytest.mark.parametrize("url", WEB_NUL)
def test_nul_in_a_page_query_leads_to_the_page_without_it(cast: Any, url: str) -> None:
    client = _signed_in(cast["alice"])
    reply = client.get(url)
    assert reply.status_code == 302 and "\x00" not in reply["Location"]
    assert client.get(reply["Location"]).status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/orders", "/api/v1/appeals", "/api/v1/notifications"])
def test_api_page_past_the_integer_range_is_a_422(cast: Any, url: str) -> None:
    reply = _signed_in(cast["alice"]).get(f"{url}?page={FAR}")
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["field"] == "page"


@pytest.mark.parametrize(
    "who,url", [("alice", "/orders/"), ("alice", "/appeals/"), ("rita", "/review/")]
)
def test_web_page_past_the_integer_range_shows_the_list(cast: Any, who: str, url: str) -> None:
    client = _signed_in(cast[who])
    reply = client.get(f"{url}?page={FAR}")
    assert reply.status_code == 302
    assert client.get(reply["Location"]).status_code == 200


def test_session_multipart_typed_json_post_is_a_415(cast: Any) -> None:
    client = Client(raise_request_exception=False, enforce_csrf_checks=True)
    client.force_login(cast["alice"])
    page = client.get("/orders/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    reply = client.post(
        "/api/v1/notifications/read",
        data='{"ids": [1]}',
        content_type="multipart/form-data; boundary=x",
        HTTP_X_CSRFTOKEN=token.group(1),
    )
    assert reply.status_code == 415
    assert reply.json()["code"] == "unsupported_media_type"
    assert reply.json()["errors"][0]["field"] == "Content-Type"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/orders/", "/appeals/", "/", "/settings/users/", "/signin/"])
def test_pages_answer_405_to_other_methods(cast: Any, method: str, url: str) -> None:
    reply = getattr(_signed_in(cast["alice"]), method)(url)
    assert reply.status_code == 405
    assert "PUT" not in reply["Allow"]
