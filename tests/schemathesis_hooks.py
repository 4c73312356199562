"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.schemathesis_hooks): each generated request
that sends a valid Idempotency-Key sends a fresh one, as a client does for a new request; a
reused key with another body is a 422 by design, tested in tests/test_api_idempotency.py."""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

_VALID_KEY = re.compile(r"[!-~]{1,255}")


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and _VALID_KEY.fullmatch(key):
        headers["Idempotency-Key"] = uuid.uuid4().hex
        case.headers = headers
