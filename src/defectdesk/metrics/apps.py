from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "defectdesk.metrics"
    label = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from defectdesk.ledger.projection import projector_register
        from defectdesk.metrics.counters import counter_projector

        projector_register(counter_projector)
