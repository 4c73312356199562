from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "defectdesk.notify"
    label = "notify"
    verbose_name = "Notify"
