from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "defectdesk.console"
    label = "console"
    verbose_name = "Reviewer and operator console"

    def ready(self) -> None:
        from defectdesk.console.access import admin_restrict_to_operators

        admin_restrict_to_operators()
