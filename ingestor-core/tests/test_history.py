"""The run history in the DuckDB warehouse: one row per run, one per file outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ingestor.testing import Harness
from ingestor.warehouse.duckdb.warehouse import FEW_ROWS, DuckDBWarehouse

EVENTS = "acme/landing/2025_01_01_00_00_acme_events.jsonl"
TABLE = "dp_ops_dev._ingestor_history"
HISTORY = f"SELECT kind, status, service, data_type, object_name, table_name, rows, bytes FROM {TABLE}"


def test_a_run_records_itself_and_every_file_outcome(harness: Harness) -> None:
    size = harness.land(EVENTS, [{"id": 1}, {"id": 2}]).stat().st_size
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", "")
    harness.land("acme/landing/2025_01_03_00_00_acme_events.jsonl", '{"id": \n')
    harness.land("acme/landing/notes.txt", "hello")
    assert harness.run("--service", "acme").exit_code == 1
    rows = harness.query(HISTORY + " WHERE kind = 'file' ORDER BY object_name")
    assert rows == [
        ("file", "loaded", "acme", "events", EVENTS, "lake_dev.acme__events", 2, size),
        ("file", "empty", "acme", "events", "acme/landing/2025_01_02_00_00_acme_events.jsonl", None, 0, 0),
        ("file", "rejected", "acme", "events", "acme/landing/2025_01_03_00_00_acme_events.jsonl", None, 0, 8),
        ("file", "rejected", "acme", None, "acme/landing/notes.txt", None, 0, 5),
    ]
    run = harness.query(
        "SELECT status, service, files, rows, reason, seconds >= 0, run_started_at <= recorded_at"
        " FROM dp_ops_dev._ingestor_history WHERE kind = 'run'"
    )
    assert run == [("failed", "acme", 4, 2, "1 loaded, 1 empty, 2 rejected", True, True)]
    ids = harness.query(f"SELECT DISTINCT h.run_id = l.run_id FROM {TABLE} h, lake_dev._ingestor_ledger l")
    assert ids == [(True,)]  # one run id across the history and the ledger
    reasons = harness.query("SELECT reason FROM dp_ops_dev._ingestor_history WHERE status = 'rejected' ORDER BY 1")
    assert reasons[0][0].startswith("malformed NDJSON at line 1") and reasons[1][0] == "no data type matches"


def test_every_run_adds_a_row_and_a_dry_run_none(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    assert harness.run("--service", "acme", "--dry-run").exit_code == 0
    assert not harness.database.exists()  # a dry run writes nothing, history included
    assert harness.run("--service", "acme").exit_code == 0
    assert harness.run("--service", "acme").exit_code == 0  # nothing to do: still a run
    harness.land(EVENTS, [{"id": 1}])  # the same file delivered again
    assert harness.run("--service", "acme").exit_code == 0
    runs = harness.query(f"SELECT status, files, rows FROM {TABLE} WHERE kind = 'run' ORDER BY recorded_at")
    assert runs == [("succeeded", 1, 1), ("succeeded", 0, 0), ("succeeded", 1, 0)]
    files = harness.query("SELECT status FROM dp_ops_dev._ingestor_history WHERE kind = 'file' ORDER BY recorded_at")
    assert files == [("loaded",), ("already_loaded",)]


def test_the_history_dataset_is_a_setting(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    assert harness.run("--service", "acme", env={"INGESTOR_HISTORY_DATASET": "ops_{env}_x"}).exit_code == 0
    assert harness.query("SELECT count(*) FROM ops_dev_x._ingestor_history") == [(2,)]
    run = harness.run("--service", "acme", env={"INGESTOR_HISTORY_DATASET": "bad-name;"})
    assert run.exit_code == 2 and "history dataset" in run.stderr


# GoogleSQL's reserved keywords (https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#reserved_keywords):
# as identifiers they must be quoted. The BigQuery API server of the tests accepts them bare, so this checks the SQL.
_RESERVED = (
    "all and any array as asc assert_rows_modified at between by case cast collate contains create cross cube "
    "current default define desc distinct else end enum escape except exclude exists extract false fetch following "
    "for from full group grouping groups hash having if ignore in inner intersect interval into is join lateral left "
    "like limit lookup merge natural new no not null nulls of on or order outer over partition preceding proto "
    "qualify range recursive respect right rollup rows select set some struct tablesample then to treat true "
    "unbounded union unnest using when where window with within"
)
RESERVED = frozenset(_RESERVED.split())


def test_history_sql_quotes_bigquery_reserved_words() -> None:
    import re

    from ingestor.ops import status
    from ingestor.ops.history import from_ledger, history_schema
    from ingestor.run.ledger import ledger_schema

    names, select = from_ledger(lambda n: f"`{n}`")
    queries = [names, select] + [
        q.format(history="`d`.`_ingestor_history`", since="@since", rows="`rows`")
        for q in (status._LATEST, status._DAILY, status._RUNS)
    ]
    identifiers = {*history_schema().columns, *ledger_schema().columns} | {
        alias for q in queries for alias in re.findall(r"\bAS (\w+)", q)
    }
    clash = sorted(i for i in identifiers if i.lower() in RESERVED)
    assert "rows" in clash  # the check has something to check
    for query in queries:
        for name in clash:
            assert not re.search(rf"(?<![`\w]){name}(?![`\w])", query), (name, query)


def test_history_rows_are_the_same_bound_as_values_or_scanned_from_arrow(tmp_path: Path) -> None:
    """A few rows (a run that loads nothing appends one) are bound as values, more are scanned from Arrow: the
    same columns, types and values either way."""
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    at = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    run = {"run_id": "r1", "kind": "run", "status": "succeeded", "service": "acme", "files": 3, "rows": 10**12,
           "bytes": 0, "reason": "1 loaded", "run_started_at": at, "recorded_at": at, "seconds": 0.25}  # fmt: skip
    file = {"run_id": "r1", "kind": "file", "status": "rejected", "service": "acme", "data_type": None,
            "object_name": "acme/landing/x.txt", "rows": 0, "bytes": 5, "reason": "no data type matches",
            "reason_code": "no_data_type", "run_started_at": at, "recorded_at": at}  # fmt: skip
    try:
        for dataset, rows in (("few", [file, run]), ("many", [file] * FEW_ROWS + [run])):
            warehouse.append_history(dataset, rows)
        read = "SELECT DISTINCT *, typeof(COLUMNS(*)) FROM {}._ingestor_history ORDER BY 2"
        few, many = (warehouse.con.execute(read.format(dataset)).fetchall() for dataset in ("few", "many"))
        assert few == many and len(few) == 2
        assert few[1][:4] == ("r1", "run", "succeeded", "acme") and few[1][15:17] == (0.25, "VARCHAR")
        assert few[1][-3:] == ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE", "DOUBLE")
    finally:
        warehouse.close()
