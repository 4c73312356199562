from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from defectdesk.appeals.actions import appeal_assign
from tests.test_appeal_support import NOW, client_for, frozen, media  # noqa: F401
from tests.test_console_review import submitted

pytestmark = pytest.mark.usefixtures("media", "frozen")


def test_dump(cast: dict[str, Any], make_event: Any) -> None:
    first = submitted(cast, make_event, "111-0000001-0000001")
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        submitted(cast, make_event, "111-0000002-0000002")
    appeal_assign(actor=cast["rita"], appeal=first, reviewer="rita")
    out = []
    with time_machine.travel(NOW + timedelta(hours=50), tick=False):
        for path in ("/review/", "/review/?q=zzz"):
            html = client_for(cast["rita"]).get(path).content.decode()
            body = html[html.index("<tbody>") : html.index("</tbody>")]
            out.append(re.sub(r'value="[A-Za-z0-9]{64}"', 'value="T"', body))
    with open(os.environ["DUMP"], "w") as f:
        f.write("\n=====\n".join(out))
