from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "defectdesk.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from defectdesk.accounts import signals  # noqa: F401 - connects the receivers
