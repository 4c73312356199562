"""Probes for load balancers and orchestrators (and the benchmarks' trivial baseline)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from defectdesk.core.readiness import readiness_checks


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and serving; touches no database."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, every migration is applied and a worker is alive; else 503
    naming what is not ready."""
    checks = readiness_checks()
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JsonResponse(body, status=200 if ready else 503)
