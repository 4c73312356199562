from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "defectdesk.metrics"
    label = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from defectdesk.ledger.projection import pipeline_install
        from defectdesk.metrics.pipeline import PIPELINE

        pipeline_install(PIPELINE)
