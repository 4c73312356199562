from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "defectdesk.core"
    label = "core"
    verbose_name = "Core"
