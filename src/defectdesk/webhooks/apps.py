from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "defectdesk.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
