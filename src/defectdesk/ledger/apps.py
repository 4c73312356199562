from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "defectdesk.ledger"
    label = "ledger"
    verbose_name = "Ledger"
