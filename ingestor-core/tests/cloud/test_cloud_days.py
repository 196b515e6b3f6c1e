"""The days a data type covers, read from BigQuery (the API server): a date column of each kind, the ledger's names."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ingestor.catalog import DataType
from ingestor.schema import Kind
from ingestor.testing import Declarations
from ingestor.warehouse.bigquery import BigQueryWarehouse

from .conftest import PROJECT, CloudHarness

pytestmark = pytest.mark.timeout(300)

DATED = Declarations(
    DataType(
        service="acme",
        name="things",
        dataset="acme_{env}",
        table="things",
        expected_every="daily",
        date_column="ts",
        schema_hints={"ts": Kind.TIMESTAMP, "day": Kind.DATE},
    ),
    DataType(
        service="acme",
        name="snaps",
        dataset="acme_{env}",
        table="snaps",
        file_patterns=(r"(?P<day>\d{4}_\d{2}_\d{2})_\d{2}_\d{2}_acme_snaps",),
        expected_every="daily",
        date_group="day",
    ),
)
THINGS = [
    {"ts": "2025-01-01T10:00:00Z", "day": "2025-01-02", "text": "2025-01-03T05:00:00.0", "n": 1},
    {"ts": "2025-01-02T23:30:00-05:00", "day": "2024-12-01", "text": "n/a", "n": 2},
]


def test_days_covered_and_loaded_names_on_bigquery(storage_client: Any, bq_client: Any) -> None:
    cloud = CloudHarness(storage_client, bq_client, DATED)
    cloud.land("acme/landing/2025_01_06_00_00_acme_things.jsonl", THINGS)
    cloud.land("acme/landing/2025_01_04_06_00_acme_snaps.jsonl", [{"n": 1}, {"n": 2}])
    assert cloud.run().exit_code == 0
    warehouse = BigQueryWarehouse(PROJECT, client=cloud.bq)
    try:
        since = date(2025, 1, 1)
        covered = warehouse.days_covered(cloud.dataset, "things", "ts", since)  # TIMESTAMP: the UTC day
        assert covered == {date(2025, 1, 1): 1, date(2025, 1, 3): 1}
        earlier = date(2024, 12, 31)  # the day before `since` counts the records of earlier days
        assert warehouse.days_covered(cloud.dataset, "things", "day", since) == {date(2025, 1, 2): 1, earlier: 1}
        assert warehouse.days_covered(cloud.dataset, "things", "text", since) == {date(2025, 1, 3): 1}  # STRING
        for table, column in (("things", "n"), ("things", "nowhere"), ("nothing", "ts")):
            assert warehouse.days_covered(cloud.dataset, table, column, since) == {}
        assert warehouse.loaded_names(cloud.dataset, "acme", "snaps") == {
            "acme/landing/2025_01_04_06_00_acme_snaps.jsonl": 2
        }
        assert warehouse.loaded_names(cloud.dataset, "acme", "nothing") == {}
        assert warehouse.loaded_names("no_such_dataset", "acme", "snaps") == {}
    finally:
        warehouse.close()
