from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "defectdesk.metrics"
    label = "metrics"
    verbose_name = "Metrics"
