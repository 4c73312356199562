"""`defectdesk serve`: the web application under gunicorn, for production."""

from __future__ import annotations

import os
from argparse import ArgumentTypeError
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from defectdesk.core.deploy import ensure_safe_to_serve
from defectdesk.core.management.args import positive_int
from defectdesk.core.management.startup import ensure_database_ready


def _gunicorn_run(options: dict[str, Any], static: bool) -> None:
    """Run gunicorn configured from our options rather than from its own command line."""
    # Imported here: gunicorn reads WEB_CONCURRENCY when imported and fails on a bad value.
    from gunicorn.app.base import BaseApplication

    class DefectDeskGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from django.core.wsgi import get_wsgi_application

            application = get_wsgi_application()
            if static:
                from django.contrib.staticfiles.handlers import StaticFilesHandler

                # Serves /static/ from the apps' static folders: fine for one machine; behind a
                # proxy, collectstatic and let the proxy serve STATIC_ROOT instead.
                return StaticFilesHandler(application)
            return application

    DefectDeskGunicorn().run()


def _manifest_check() -> None:
    """Refuse to serve hashed static names that were never collected (every page would fail)."""
    if not settings.STATIC_MANIFEST:
        return
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        raise CommandError(
            f"Static files are not collected: {manifest} is missing. Run "
            "`defectdesk collectstatic --no-input` after each deployment (or set "
            "STATIC_MANIFEST=0 to serve them unhashed)."
        )


class Command(BaseCommand):
    help = (
        "Serve the web application and API with gunicorn on $BIND (default 127.0.0.1:8000) "
        "with $WEB_CONCURRENCY worker processes (default 2). With DEBUG off it refuses to start "
        "unless SECRET_KEY and ALLOWED_HOSTS are set, or DEFECTDESK_EMBEDDED=1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind",
            default=os.environ.get("BIND") or "127.0.0.1:8000",
            help="address to listen on, HOST:PORT or unix:PATH (default: $BIND or 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers",
            type=positive_int,
            default=None,
            help="web worker processes (default: $WEB_CONCURRENCY or 2)",
        )
        parser.add_argument(
            "--timeout",
            type=positive_int,
            default=60,
            help="seconds before a silent web worker is restarted (default: 60)",
        )
        static = parser.add_mutually_exclusive_group()
        static.add_argument(
            "--static",
            dest="static",
            action="store_true",
            default=None,
            help="serve /static/ from this process (default when embedded or DEBUG)",
        )
        static.add_argument(
            "--no-static",
            dest="static",
            action="store_false",
            help="leave /static/ to a proxy serving STATIC_ROOT",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ensure_safe_to_serve()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        workers = options["workers"]
        if workers is None:
            raw = os.environ.get("WEB_CONCURRENCY", "").strip() or "2"
            try:
                workers = positive_int(raw)
            except ArgumentTypeError as exc:
                raise CommandError(f"WEB_CONCURRENCY {exc}") from exc
        _manifest_check()
        ensure_database_ready()
        static = options["static"]
        if static is None:
            static = bool(settings.DEBUG or settings.EMBEDDED)
        connections.close_all()
        _gunicorn_run(
            {
                "bind": [options["bind"]],
                "workers": workers,
                "timeout": options["timeout"],
                # JSON logs carry one line per request of their own (defectdesk.request).
                "accesslog": None if settings.LOG_FORMAT == "json" else "-",
                "errorlog": "-",
                "proc_name": "defectdesk-web",
                "control_socket_disable": True,
            },
            static=static,
        )
