from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "defectdesk.messaging"
    label = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from defectdesk.ledger.projection import projector_register
        from defectdesk.messaging.projection import message_projector

        projector_register(message_projector)
