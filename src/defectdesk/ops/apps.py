from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "defectdesk.ops"
    label = "ops"
    verbose_name = "Operations"
