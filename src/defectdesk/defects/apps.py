from django.apps import AppConfig


class DefectsConfig(AppConfig):
    name = "defectdesk.defects"
    label = "defects"
    verbose_name = "Defects"

    def ready(self) -> None:
        from defectdesk.defects.projection import defect_projector
        from defectdesk.ledger.projection import projector_register

        projector_register(defect_projector)
