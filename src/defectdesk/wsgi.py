"""WSGI entry point for gunicorn and other servers."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectdesk.settings")
application = get_wsgi_application()

from defectdesk.core.deploy import ensure_safe_to_serve  # noqa: E402

ensure_safe_to_serve()
