"""Schemathesis against the live OpenAPI document, as each kind of token: every check it has,
a fixed seed and a bounded budget. Prints, per token, the operations tested, the cases and the
failures (which must be none)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from defectdesk.accounts.actions import token_create
from defectdesk.core.actors import SYSTEM
from tests.test_appeal_support import client_for, negative_feedback

SEED = 20261206
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "4"))
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")

# The coverage phase (every boundary and negative value of every parameter of the writing
# operations) costs the most: it runs for the seller's token with SCHEMATHESIS_COVERAGE=1 (a
# deeper run); within `make test`'s time, negative data comes from the fuzzing phase.
ALL_PHASES = (
    "examples,coverage,fuzzing,stateful"
    if os.environ.get("SCHEMATHESIS_COVERAGE")
    else "examples,fuzzing,stateful"
)
SHORT_PHASES = "examples,fuzzing,stateful"
TOKENS: dict[str, dict[str, Any]] = {
    "seller": {"seller": "S-1"},
    "read-only seller": {"seller": "S-1", "read_only": True},
    "review": {"scopes": ["review"]},
    "ingest": {"scopes": ["ingest"]},
    "admin": {"scopes": ["admin"]},
}


def _world(cast: dict[str, Any], make_event: Any) -> None:
    """Two sellers with a defect each and a draft appeal, so that links have ids to follow."""
    for order, seller in (("111-0000001-0000001", "S-1"), ("222-0000001-0000001", "S-2")):
        defect = negative_feedback(make_event, order=order, seller=seller)
        owner = cast["alice"] if seller == "S-1" else cast["carol"]
        reply = client_for(owner).post(
            "/api/v1/appeals",
            {"defect": defect.pk, "reason": "other", "explanation": "x" * 60},
            content_type="application/json",
        )
        assert reply.status_code == 201, reply.content


def _run(base_url: str, raw: str, phases: str, report: Path) -> dict[str, Any]:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/api/v1/openapi.json",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--no-shrink",
        "--phases",
        phases,
        "--header",
        f"Authorization: Bearer {raw}",
        "--request-timeout",
        "30",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks"}
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
        cwd=CONFIG.parent.parent,
    )
    return {"code": done.returncode, "out": done.stdout + done.stderr}


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_nothing_for_any_token(
    live_server: Any, cast: dict[str, Any], make_event: Any, settings: Any, tmp_path: Path
) -> None:
    assert SCHEMATHESIS.exists(), "schemathesis is a test dependency: pip install -e '.[test]'"
    settings.API_RATE_LIMIT_PER_TOKEN = 1_000_000
    settings.API_RATE_LIMIT_PER_ADDRESS = 1_000_000
    _world(cast, make_event)
    failed = []
    only = os.environ.get("SCHEMATHESIS_TOKENS", "")
    for label, spec in TOKENS.items():
        if only and label not in only.split(","):
            continue
        _token, raw = token_create(actor=SYSTEM, name=label, **spec)
        phases = ALL_PHASES if label == "seller" else SHORT_PHASES
        result = _run(live_server.url, raw, phases, tmp_path / f"{label}.ndjson")
        summary = _summary(result["out"])
        print(f"schemathesis [{label}]: {summary}")
        if result["code"] != 0:
            failed.append(f"{label}:\n{result['out'][-6000:]}")
    assert not failed, "\n\n".join(failed)


def _summary(output: str) -> str:
    """Operations tested, cases, links followed and failures, as Schemathesis reports them."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    phases = re.findall(r"✅\s+(\d+) passed(?:\s+❌\s+(\d+) failed)?", text)
    operations = max((int(p) + int(f or 0) for p, f in phases), default=0)
    cases = re.search(r"(\d+) generated", text)
    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", text)
    failures = re.search(r"(\d+) unique failures?", text)
    followed = f"{links.group(1)} of {links.group(2)}" if links else "no"
    return (
        f"{operations} operations tested, {cases.group(1) if cases else '?'} cases, "
        f"{followed} links followed, {failures.group(1) if failures else 0} failures"
    )
