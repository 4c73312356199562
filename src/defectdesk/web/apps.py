from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "defectdesk.web"
    label = "web"
    verbose_name = "Web"
