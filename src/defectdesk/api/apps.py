from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "defectdesk.api"
    label = "api"
    verbose_name = "API"
