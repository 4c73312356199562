"""`temp_table_empty`: a batch's temp table is created once a session and is empty for every
batch, after a commit, a rollback, or a first batch in the same transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from defectdesk.core.bulk import bulk_insert, temp_table_empty

pytestmark = pytest.mark.django_db(transaction=True)

TMP = "tmp_bench_rows"


@pytest.fixture(autouse=True)
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("temp tables of batches are PostgreSQL's")


def fill(values: list[int]) -> list[int]:
    """Ready the temp table, copy the values in, and read back what it holds."""
    temp_table_empty(TMP, "ledger_marketplace", "id")
    bulk_insert(TMP, ["id"], [[v] for v in values], prepared=True)
    with connection.cursor() as cur:
        cur.execute(f"SELECT id FROM {TMP} ORDER BY id")  # nosec B608 # a fixed name
        return [row[0] for row in cur.fetchall()]


def test_each_batch_sees_only_its_rows() -> None:
    with transaction.atomic():
        assert fill([1, 2]) == [1, 2]
        assert fill([3]) == [3]  # the same transaction's earlier batch is gone
    with transaction.atomic():
        assert fill([4]) == [4]  # created once: no second CREATE, emptied by the commit


def test_a_rollback_undoes_the_creation_and_the_rows() -> None:
    connection.close()  # a new session: the table does not exist in it yet
    with pytest.raises(RuntimeError), transaction.atomic():
        assert fill([1]) == [1]
        raise RuntimeError("the batch fails")
    with transaction.atomic():
        assert fill([2]) == [2]  # made again: its creation was rolled back
    with pytest.raises(RuntimeError), transaction.atomic():
        assert fill([3]) == [3]
        raise RuntimeError("the batch fails")
    with transaction.atomic():
        assert fill([5]) == [5]
