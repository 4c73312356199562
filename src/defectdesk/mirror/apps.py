from django.apps import AppConfig


class MirrorConfig(AppConfig):
    name = "defectdesk.mirror"
    label = "mirror"
    verbose_name = "Mirror mode (external marketplaces)"
