"""The run history on the BigQuery API server: loaded files' rows committed with the load, the rest at the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingestor.warehouse.bigquery import BigQueryWarehouse

from .conftest import PROJECT, CloudHarness

pytestmark = pytest.mark.timeout(300)

THINGS = "acme/landing/2025_01_01_00_00_acme_things.jsonl"


def test_history_rows_on_bigquery(cloud: CloudHarness) -> None:
    cloud.land(THINGS, [{"id": 1}, {"id": 2}])
    cloud.land("acme/landing/2025_01_02_00_00_acme_things.jsonl", b"{broken\n")
    run = cloud.run()
    assert run.exit_code == 1, run.output
    result = cloud.result(run)
    table = f"dp_ops_{cloud.env}._ingestor_history"
    files = cloud.query(
        f"SELECT run_id, status, object_name, table_name, `rows`, bytes FROM {table} WHERE kind = 'file'"
    )
    size = cloud.bucket.get_blob("acme/archive/2025_01_01_00_00_acme_things.jsonl").size
    assert sorted((r["status"], r["object_name"], r["table_name"], r["rows"], r["bytes"]) for r in files) == [
        ("loaded", THINGS, f"{cloud.dataset}.things", 2, size),
        ("rejected", "acme/landing/2025_01_02_00_00_acme_things.jsonl", None, 0, 8),
    ]
    assert {r["run_id"] for r in files} == {result["run_id"]}
    codes = cloud.query(f"SELECT status, reason_code FROM {table} WHERE kind = 'file' ORDER BY status")
    assert codes == [{"status": "loaded", "reason_code": None}, {"status": "rejected", "reason_code": "malformed_line"}]
    runs = cloud.query(f"SELECT status, service, files, `rows` FROM {table} WHERE kind = 'run'")
    assert runs == [{"status": "failed", "service": "acme", "files": 2, "rows": 2}]

    # read back through the warehouse, as `ingestor status` does
    warehouse = BigQueryWarehouse(PROJECT, client=cloud.bq)
    try:
        query = "SELECT status, COUNT(*) AS n FROM {history} WHERE recorded_at >= {since} GROUP BY status"
        recent = warehouse.read_history(f"dp_ops_{cloud.env}", query, datetime.now(UTC) - timedelta(hours=1))
        assert sorted((r["status"], r["n"]) for r in recent) == [("failed", 1), ("loaded", 1), ("rejected", 1)]
        assert warehouse.read_history(f"dp_ops_{cloud.env}", query, datetime.now(UTC) + timedelta(hours=1)) == []
        assert warehouse.read_history("no_such_dataset", query, datetime.now(UTC)) == []
    finally:
        warehouse.close()


def test_an_older_history_table_gets_the_reason_code_column_on_bigquery(cloud: CloudHarness) -> None:
    """The history table is ingestor's own: one an older version made, without `reason_code`, is given it."""
    from google.cloud import bigquery

    from ingestor.ops.history import history_schema

    dataset = f"dp_ops_{cloud.env}"
    cloud.bq.create_dataset(dataset)
    older = [bigquery.SchemaField(c.name, c.kind.value) for c in history_schema().columns.values()]
    older = [field for field in older if field.name != "reason_code"]
    cloud.bq.create_table(bigquery.Table(f"{PROJECT}.{dataset}._ingestor_history", schema=older))
    cloud.land(THINGS, [{"id": 1}])
    cloud.land("acme/landing/notes.txt", b"hello")
    assert cloud.run().exit_code == 1
    columns = [f.name for f in cloud.bq.get_table(f"{PROJECT}.{dataset}._ingestor_history").schema]
    assert columns[-1] == "reason_code" and "reason_code" not in columns[:-1]
    rows = cloud.query(f"SELECT status, reason_code FROM {dataset}._ingestor_history WHERE kind = 'file' ORDER BY 1")
    assert rows == [{"status": "loaded", "reason_code": None}, {"status": "rejected", "reason_code": "no_data_type"}]


def test_status_on_gcs_and_bigquery(cloud: CloudHarness) -> None:
    from typer.testing import CliRunner

    from ingestor.cli import app
    from ingestor.plugins import use_plugins

    cloud.land(THINGS, [{"id": 1}, {"id": 2}, {"id": 3}])
    assert cloud.run().exit_code == 0
    cloud.land("acme/landing/2025_01_05_00_00_acme_things.jsonl", [{"id": 4}])
    args = ["status", "--service", "acme", "--env", cloud.env, "--json", "--landing", f"gs://{cloud.bucket.name}",
            "--warehouse", f"bigquery://{PROJECT}"]  # fmt: skip
    with use_plugins(cloud.plugins):
        run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    things = next(t for t in cloud.result(run)["types"] if t["data_type"] == "things")
    assert things["last_file"] == THINGS and things["rows_by_day"] == {things["last_loaded_at"][:10]: 3}
    assert things["waiting"] == 1 and things["oldest_waiting_at"] is not None and things["rejected"] == 0
    assert cloud.files("acme/landing/") == ["acme/landing/2025_01_05_00_00_acme_things.jsonl"]  # read only
