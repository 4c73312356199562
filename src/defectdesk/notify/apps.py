from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "defectdesk.notify"
    label = "notify"
    verbose_name = "Notify"

    def ready(self) -> None:
        from defectdesk.accounts.identity import user_preload_register
        from defectdesk.notify.selectors import unread_preload

        user_preload_register(unread_preload)
