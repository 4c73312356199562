from django.db import migrations

# Leave room in each page of the orders projection so that an update touching no indexed
# column (a later scan, feedback, a message: only the event count and last event time change)
# can stay on its page as a heap-only tuple and skip all ten indexes.
ORDER_FILLFACTOR = 80


def set_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE ledger_order SET (fillfactor = {ORDER_FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE ledger_order RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_at_risk_indexes")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
