from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "defectdesk.policy"
    label = "policy"
    verbose_name = "Policy"
