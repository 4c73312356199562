"""The review page's facts and seller columns are kept under the seller's data version: the
facts are gathered once, and again only after a change to that seller."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from defectdesk.appeals.actions import appeal_assign
from defectdesk.console import review_views
from tests.test_appeal_support import NOW, client_for, frozen, media  # noqa: F401
from tests.test_console_review import submitted

pytestmark = pytest.mark.usefixtures("media", "frozen")


def test_the_review_page_gathers_the_facts_once_per_change_to_the_seller(
    cast: dict[str, Any], make_event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    appeal = submitted(cast, make_event, "111-0000001-0000001")
    gathered: list[int] = []
    original = review_views._appeal_facts

    def counted(found: Any, policy: Any) -> Any:
        gathered.append(found.pk)
        return original(found, policy)

    monkeypatch.setattr(review_views, "_appeal_facts", counted)
    rita, otto = client_for(cast["rita"]), client_for(cast["otto"])
    path = f"/review/appeals/{appeal.pk}/"
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        first = rita.get(path).content.decode()
        assert "111-0000001-0000001" in first
        assert otto.get(path).status_code == 200
        assert gathered == [appeal.pk]  # the second viewer got the kept columns
        appeal_assign(actor=cast["rita"], appeal=appeal, reviewer="rita")  # audited, seller S-1
        assert rita.get(path).status_code == 200
    assert gathered == [appeal.pk, appeal.pk]
