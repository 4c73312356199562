"""Fill the orders' `problem_since` from the defects already projected."""

from django.db import migrations

FILL = """
UPDATE ledger_order SET problem_since = (
    SELECT MIN(d.opened_at) FROM defects_defect d
    WHERE d.order_id = ledger_order.id AND d.status = 'active'
)
WHERE id IN (SELECT order_id FROM defects_defect WHERE status = 'active')
"""


class Migration(migrations.Migration):
    dependencies = [
        ("defects", "0001_initial"),
        ("ledger", "0003_order_problem_since"),
    ]

    operations = [migrations.RunSQL(FILL, migrations.RunSQL.noop)]
