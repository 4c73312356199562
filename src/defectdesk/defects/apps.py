from django.apps import AppConfig


class DefectsConfig(AppConfig):
    name = "defectdesk.defects"
    label = "defects"
    verbose_name = "Defects"
