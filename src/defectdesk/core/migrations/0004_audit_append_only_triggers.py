"""Refuse UPDATE and DELETE on the audit table with triggers (PostgreSQL and SQLite).

On SQLite a later migration that rebuilds core_auditevent drops its triggers: such a migration
must install them again (see defectdesk.core.appendonly); the audit tests notice if it does not.
"""

from typing import Any

from django.db import migrations

from defectdesk.core.appendonly import install, uninstall


def forwards(apps: Any, schema_editor: Any) -> None:
    install(schema_editor.connection)


def backwards(apps: Any, schema_editor: Any) -> None:
    uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_request_id_and_protected_references")]

    operations = [migrations.RunPython(forwards, backwards)]
