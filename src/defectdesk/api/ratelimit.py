"""Rate limits on token-authenticated API requests, per token and per client address.

Requests are counted in fixed windows (API_RATE_LIMIT_WINDOW seconds): in the shared cache
(Redis INCR) when REDIS_URL is set, else in the database (one upsert), so that every process
counts into the same number. Every answer to a request with a bearer token carries the
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` of the tighter of its two limits;
a request over either is a 429 with `Retry-After`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponseBase

from defectdesk.accounts.models import ApiToken
from defectdesk.accounts.throttle import client_address
from defectdesk.accounts.tokens import token_authenticate
from defectdesk.api.contract import is_api
from defectdesk.api.errors import error_response
from defectdesk.api.models import RateCounter

_UNSET = object()


def bearer_token(request: HttpRequest) -> ApiToken | None:
    """The live token of the request's `Authorization: Bearer` header (looked up once)."""
    found = getattr(request, "_bearer_token", _UNSET)
    if found is _UNSET:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        found = token_authenticate(raw.strip()) if scheme.lower() == "bearer" else None
        request._bearer_token = found  # type: ignore[attr-defined]
    return found  # type: ignore[return-value]


@dataclass(frozen=True)
class Quota:
    """One limit's state after counting a request."""

    limit: int
    used: int
    reset: int  # seconds until the window ends

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit


# One statement counts atomically in PostgreSQL and SQLite alike; the table name is the model's
# own and the values are parameters.
_UPSERT = (
    "INSERT INTO {table} (bucket, hits, expires_at) VALUES (%s, 1, %s) "
    "ON CONFLICT (bucket) DO UPDATE SET hits = {table}.hits + 1 RETURNING hits"
)


def _count_in_database(bucket: str, expires_at: datetime) -> int:
    sql = _UPSERT.format(table=connection.ops.quote_name(RateCounter._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket, expires_at])
        hits = int(cursor.fetchone()[0])
    if hits == 1:  # a new window: drop the counters of windows that ended
        RateCounter.objects.filter(expires_at__lt=datetime.now(UTC)).delete()
    return hits


def _count_in_cache(bucket: str, window: int) -> int:
    cache.add(bucket, 0, timeout=window + 1)
    try:
        return int(cache.incr(bucket))
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, timeout=window + 1)
        return 1


def rate_count(name: str, limit: int) -> Quota:
    """Count one request against `name` in the current window."""
    window = settings.API_RATE_LIMIT_WINDOW
    now = time.time()
    start = int(now // window) * window
    bucket = f"ratelimit:{name}:{window}:{start}"
    if settings.SHARED_CACHE:
        used = _count_in_cache(bucket, window)
    else:
        used = _count_in_database(bucket, datetime.fromtimestamp(start + window, UTC))
    return Quota(limit=limit, used=used, reset=max(math.ceil(start + window - now), 1))


def _headers(response: HttpResponseBase, quota: Quota) -> HttpResponseBase:
    response["RateLimit-Limit"] = str(quota.limit)
    response["RateLimit-Remaining"] = str(quota.remaining)
    response["RateLimit-Reset"] = str(quota.reset)
    return response


def _refusal(quota: Quota, what: str) -> HttpResponseBase:
    response = error_response(
        429,
        f"Too many requests for this {what}: at most {quota.limit} every "
        f"{settings.API_RATE_LIMIT_WINDOW} seconds. Retry after {quota.reset} seconds.",
        code="rate_limited",
    )
    response["Retry-After"] = str(quota.reset)
    return _headers(response, quota)


class RateLimitMiddleware:
    """Count requests that carry a bearer token under /api/ (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        header = request.headers.get("Authorization", "")
        if not is_api(request) or not header.lower().startswith("bearer "):
            return self.get_response(request)
        # Every bearer request counts against its address, a wrong token too (guessing).
        address = rate_count(
            f"address:{client_address(request)}", settings.API_RATE_LIMIT_PER_ADDRESS
        )
        if address.exceeded:
            return _refusal(address, "client address")
        token = bearer_token(request)
        quotas = [address]
        if token is not None:
            own = rate_count(f"token:{token.pk}", settings.API_RATE_LIMIT_PER_TOKEN)
            if own.exceeded:
                return _refusal(own, "token")
            quotas.append(own)
        tightest = min(quotas, key=lambda q: (q.remaining, -q.reset))
        return _headers(self.get_response(request), tightest)
