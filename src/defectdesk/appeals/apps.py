from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "defectdesk.appeals"
    label = "appeals"
    verbose_name = "Appeals"
