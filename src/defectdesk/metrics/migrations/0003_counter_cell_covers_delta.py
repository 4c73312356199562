"""On PostgreSQL, the counters' one-cell index also carries `delta` (INCLUDE).

A seller's health sums the deltas of its cells in each metric's window. The index already
orders a seller's cells together; carrying the delta lets PostgreSQL answer from the index
alone, where it read one heap page per cell: the cells of a seller are written over months
and lie scattered across the table (the largest seller of the 1,000,000-order / 10,000-seller
ledger: 1,399 heap pages for 3,907 cells, 97 index pages with the delta in the index).

Django's `UniqueConstraint(include=...)` would leave SQLite, which has no covering indexes,
without the constraint at all (and its upserts without their conflict target), so the model
declares the plain constraint and this migration widens it on PostgreSQL only. It rebuilds the
index: on a large database, run it in a maintenance window (docs/operations.md).
"""

from typing import Any

from django.db import migrations

COLUMNS = "seller_id, marketplace_id, metric, key_day, change_day, part"


def _constraint(include: str) -> str:
    return (
        "ALTER TABLE metrics_dailycounter DROP CONSTRAINT metrics_counter_one_cell, "
        f"ADD CONSTRAINT metrics_counter_one_cell UNIQUE ({COLUMNS}){include}"
    )


def covering(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_constraint(" INCLUDE (delta)"))


def plain(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_constraint(""))


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0002_counter_codes_checked"),
    ]

    operations = [migrations.RunPython(covering, plain)]
