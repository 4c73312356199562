from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "defectdesk.demo"
    label = "demo"
    verbose_name = "Demo marketplace"
