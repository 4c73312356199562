"""A liveness probe for load balancers (and the benchmarks' trivial baseline)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and serving; touches no database."""
    return HttpResponse("ok\n", content_type="text/plain")
