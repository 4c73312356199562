from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "defectdesk.accounts"
    label = "accounts"
    verbose_name = "Accounts"
