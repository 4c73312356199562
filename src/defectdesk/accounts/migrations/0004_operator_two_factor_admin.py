"""Let operators see and remove two-factor devices in Django admin (a lost device)."""

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

from defectdesk.accounts.models import OPERATOR_GROUP

GRANTS = [
    ("otp_totp", "view_totpdevice"),
    ("otp_totp", "delete_totpdevice"),
    ("otp_static", "view_staticdevice"),
    ("otp_static", "delete_staticdevice"),
]


def grant(apps: Any, schema_editor: Any) -> None:
    for label in ("otp_totp", "otp_static"):
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=OPERATOR_GROUP)
    for app_label, codename in GRANTS:
        found = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if found is not None:
            group.permissions.add(found)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_preference"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
