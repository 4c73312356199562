"""Give existing operators the Django admin permissions the docs promise them."""

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

from defectdesk.accounts.models import OPERATOR_ADMIN_PERMISSIONS, OPERATOR_GROUP


def grant(apps: Any, schema_editor: Any) -> None:
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    StaffRole = apps.get_model("accounts", "StaffRole")
    User = apps.get_model("auth", "User")
    group, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    for app_label, codename in OPERATOR_ADMIN_PERMISSIONS:
        found = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if found is not None:
            group.permissions.add(found)
    operators = StaffRole.objects.filter(role="operator").values_list("user_id", flat=True)
    for user in User.objects.filter(pk__in=list(operators)):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(group)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("appeals", "0004_appeal_defect_kind"),
        ("ledger", "0006_event_lean_constraints"),
        ("django_tasks_database", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
