from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "defectdesk.messaging"
    label = "messaging"
    verbose_name = "Messaging"
