"""URL routes: the web app, the API at /api/v1/, webhooks and the operators' admin."""

from django.contrib import admin
from django.urls import include, path

from defectdesk.api.app import api, register_routers
from defectdesk.api.webhooks import stripe_webhook

register_routers()

handler400 = "defectdesk.web.errors.bad_request"

urlpatterns = [
    path("api/v1/", api.urls),
    path("webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    path("admin/", admin.site.urls),
    path("", include("defectdesk.console.urls")),
    path("", include("defectdesk.mirror.urls")),
    path("", include("defectdesk.web.urls")),
]
