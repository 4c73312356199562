"""The appeal API beyond the main journey: tokens, lists, second appeals, replies with files."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from defectdesk.appeals.models import Appeal, AppealFile
from defectdesk.appeals.selectors import open_appeal_for_defect
from tests.test_appeal_support import (  # noqa: F401 - fixtures
    EXPLANATION,
    client_for,
    frozen,
    media,
    negative_feedback,
    png_bytes,
    token_client,
)

pytestmark = pytest.mark.usefixtures("media", "frozen")
JSON = "application/json"


def _file(client: Any, defect: Any, explanation: str = EXPLANATION) -> Any:
    return client.post(
        "/api/v1/appeals",
        {"defect": defect.pk, "reason": "other", "explanation": explanation},
        content_type=JSON,
    )


def test_seller_and_review_tokens_work_the_appeal(cast: dict[str, Any], make_event: Any) -> None:
    defect = negative_feedback(make_event)
    seller = token_client(seller=defect.seller)
    review = token_client(scopes=["review"])
    created = _file(seller, defect)
    assert created.status_code == 201
    url = f"/api/v1/appeals/{created.json()['id']}"
    assert seller.post(f"{url}/submit").json()["status"] == "submitted"
    assigned = review.post(f"{url}/assign", {"reviewer": "rita"}, content_type=JSON).json()
    assert (assigned["status"], assigned["assigned_to"]) == ("in_review", "rita")
    denied = review.post(
        f"{url}/decide", {"decision": "deny", "note": "No proof."}, content_type=JSON
    ).json()
    assert denied["status"] == "denied" and denied["decision"]["note"] == "No proof."
    assert review.get(f"{url}/packet.pdf").status_code == 200
    assert [h["actor"].split(" ")[0] for h in denied["history"]][-1] == "token"


def test_lists_are_paginated_filtered_and_scoped(cast: dict[str, Any], make_event: Any) -> None:
    alice, carol = client_for(cast["alice"]), client_for(cast["carol"])
    for n in range(3):
        _file(alice, negative_feedback(make_event, order=f"111-000000{n}-0000001"))
    _file(carol, negative_feedback(make_event, order="222-0000001-0000001", seller="S-2"))
    first = alice.get("/api/v1/appeals?page_size=2").json()
    assert (first["count"], len(first["items"]), first["page"]) == (3, 2, 1)
    second = alice.get("/api/v1/appeals?page_size=2&page=2").json()
    assert len(second["items"]) == 1
    assert alice.get("/api/v1/appeals?status=submitted").json()["count"] == 0
    assert alice.get("/api/v1/appeals?status=draft").json()["count"] == 3
    assert carol.get("/api/v1/appeals").json()["count"] == 1
    rita = client_for(cast["rita"])
    assert rita.get("/api/v1/appeals").json()["count"] == 4
    assert rita.get("/api/v1/appeals?seller=S-2").json()["count"] == 1
    assert rita.get("/api/v1/review/queue").json()["count"] == 0  # drafts are not for review


def test_a_second_appeal_needs_something_new_and_a_third_is_refused(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    alice, rita = client_for(cast["alice"]), client_for(cast["rita"])

    def deny(appeal_id: int) -> None:
        r = rita.post(
            f"/api/v1/appeals/{appeal_id}/decide",
            {"decision": "deny", "note": "No."},
            content_type=JSON,
        )
        assert r.status_code == 200

    first = _file(alice, defect).json()["id"]
    alice.post(f"/api/v1/appeals/{first}/submit")
    deny(first)
    second = _file(alice, defect).json()["id"]
    same = alice.post(f"/api/v1/appeals/{second}/submit")
    assert same.status_code == 422
    assert same.json()["errors"][0]["field"] == "explanation"
    assert "something new" in same.json()["detail"]
    alice.post(
        f"/api/v1/appeals/{second}/files",
        {"file": SimpleUploadedFile("new.png", png_bytes("yellow"))},
    )
    assert alice.post(f"/api/v1/appeals/{second}/submit").status_code == 200
    deny(second)
    third = _file(alice, defect, EXPLANATION + " A third attempt with more words.")
    assert third.status_code == 409
    assert "at most 2 appeals" in third.json()["detail"]
    assert open_appeal_for_defect(defect) is None


def test_a_withdrawn_draft_frees_the_defect_for_a_new_one(
    cast: dict[str, Any], make_event: Any
) -> None:
    defect = negative_feedback(make_event)
    alice = client_for(cast["alice"])
    first = _file(alice, defect).json()["id"]
    assert open_appeal_for_defect(defect).pk == first  # type: ignore[union-attr]
    assert (
        alice.post(
            f"/api/v1/appeals/{first}/withdraw", {"note": "Wrong order."}, content_type=JSON
        ).json()["status"]
        == "withdrawn"
    )
    assert open_appeal_for_defect(defect) is None
    assert _file(alice, defect).status_code == 201


def test_a_reply_carries_files_as_multipart(cast: dict[str, Any], make_event: Any) -> None:
    defect = negative_feedback(make_event)
    alice, rita = client_for(cast["alice"]), client_for(cast["rita"])
    url = f"/api/v1/appeals/{_file(alice, defect).json()['id']}"
    alice.post(f"{url}/submit")
    rita.post(f"{url}/request-info", {"question": "Any photo?"}, content_type=JSON)
    bad = alice.post(
        f"{url}/reply",
        {"message": "Here.", "file": SimpleUploadedFile("x.png", b"MZ\x90\x00" * 20)},
    )
    assert bad.status_code == 422 and Appeal.objects.get().status == "info_requested"
    replied = alice.post(
        f"{url}/reply",
        {"message": "Here is the photo.", "file": SimpleUploadedFile("photo.png", png_bytes())},
    )
    assert replied.status_code == 200, replied.json()
    body = replied.json()
    assert body["status"] == "in_review"
    assert [m["kind"] for m in body["messages"]] == ["question", "reply"]
    assert body["files"][0]["reply"] == body["messages"][1]["id"]
    assert AppealFile.objects.get().reply_id is not None
    empty = alice.post(f"{url}/reply", {}, content_type=JSON)
    assert empty.status_code in (409, 422)


def test_the_reasons_catalogue_offers_guidance(cast: dict[str, Any]) -> None:
    alice = client_for(cast["alice"])
    body = alice.get("/api/v1/appeals/reasons?kind=a_to_z_claim").json()
    codes = [r["code"] for r in body[0]["reasons"]]
    assert codes == [
        "delivered_per_tracking",
        "refunded_before_claim",
        "buyer_did_not_return_item",
        "claim_outside_policy",
        "other",
    ]
    assert all(r["guidance"] for r in body[0]["reasons"])
    assert alice.get("/api/v1/appeals/reasons?kind=nope").status_code == 422


def test_every_appeal_endpoint_documents_its_status_codes(cast: dict[str, Any]) -> None:
    schema = client_for(cast["otto"]).get("/api/v1/openapi.json").json()
    paths = {p: ops for p, ops in schema["paths"].items() if "/appeals" in p or "/review/" in p}
    assert len(paths) >= 11
    for path, ops in paths.items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "401" in codes, (method, path)
            if method in ("post", "patch"):
                assert {"403", "404", "422"} & codes, (method, path)
    decide = schema["paths"]["/api/v1/appeals/{appeal_id}/decide"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(decide)
