"""Latest views by key (`ingestor.run.latest`): `{table}__latest` holds the newest row of each key, on DuckDB."""

from __future__ import annotations

from pathlib import Path

from ingestor import DataType, Declared, Kind
from ingestor.testing import Declarations, Harness
from ingestor.warehouse.duckdb import DuckDBWarehouse

THINGS = DataType(
    service="acme",
    name="things",
    dataset="lake_{env}",
    table="things",
    primary_key=("id", "meta.region"),
    columns=(Declared("id", Kind.INT64), Declared("meta", Kind.STRUCT, fields=(Declared("region", Kind.STRING),))),
)
EVENTS = DataType(service="acme", name="events", dataset="lake_{env}", table="events")
PLUGIN = Declarations(THINGS, EVENTS)
VIEW = "lake_dev.things__latest"


def latest(h: Harness) -> list[tuple[object, ...]]:
    return h.query(f'SELECT id, meta.region, "value", _source_file FROM {VIEW} ORDER BY id, meta.region')


def test_two_files_with_the_same_key_give_one_row_the_newer(tmp_path: Path) -> None:
    h = Harness(tmp_path, PLUGIN)
    h.land("acme/landing/2025_01_02_acme_things.jsonl", [{"id": 1, "meta": {"region": "eu"}, "value": "new"}])
    h.land("acme/landing/2025_01_01_acme_things.jsonl", [{"id": 1, "meta": {"region": "eu"}, "value": "old"}])
    assert h.ingest("--service", "acme").success
    # One run: the same inserted-at; the later file name wins.
    assert latest(h) == [(1, "eu", "new", "acme/landing/2025_01_02_acme_things.jsonl")]

    h.land("acme/landing/2024_12_31_acme_things.jsonl", [{"id": 1, "meta": {"region": "eu"}, "value": "newest"}])
    h.land("acme/landing/2024_12_31b_acme_things.jsonl", [{"id": 1, "meta": {"region": "us"}, "value": "us"}])
    assert h.ingest("--service", "acme").success
    # A later run's row wins, whatever its file's name.
    assert latest(h) == [
        (1, "eu", "newest", "acme/landing/2024_12_31_acme_things.jsonl"),
        (1, "us", "us", "acme/landing/2024_12_31b_acme_things.jsonl"),
    ]
    assert h.query("SELECT count(*) FROM lake_dev.things") == [(4,)]  # the table keeps every row


def test_rows_alike_in_key_time_and_file_give_the_same_row_in_any_order(tmp_path: Path) -> None:
    """Ties on key, inserted-at and file (one file listing a key twice): the same row whatever the rows' order."""
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    rows = [(1, v, {"x": [n]}) for n, v in enumerate(("a", "c", "b", "d"))]
    chosen = set()
    try:
        warehouse.con.execute("CREATE SCHEMA s")
        for n, order in enumerate((rows, rows[::-1], rows[1:] + rows[:1])):
            warehouse.con.execute(
                f"CREATE TABLE s.t{n} (id BIGINT, v VARCHAR, st STRUCT(x BIGINT[]), "
                "_dp_inserted_at TIMESTAMPTZ, _source_file VARCHAR)"
            )
            for row in order:
                warehouse.con.execute(f"INSERT INTO s.t{n} VALUES (?, ?, ?, TIMESTAMPTZ '2025-01-01', 'f')", row)
            warehouse.ensure_latest_view(
                "s", f"t{n}__latest", f"t{n}", ["id"], ["_dp_inserted_at", "_source_file"], True
            )
            for _ in range(3):
                chosen |= set(warehouse.con.execute(f"SELECT id, v FROM s.t{n}__latest").fetchall())
    finally:
        warehouse.close()
    assert len(chosen) == 1


def test_the_view_follows_the_tables_new_columns(tmp_path: Path) -> None:
    h = Harness(tmp_path, PLUGIN)
    h.land("acme/landing/2025_01_01_acme_things.jsonl", [{"id": 1, "meta": {"region": "eu"}}])
    assert h.ingest("--service", "acme").success
    assert "extra" not in h.columns("lake_dev", "things__latest")
    h.land("acme/landing/2025_01_02_acme_things.jsonl", [{"id": 1, "meta": {"region": "eu"}, "extra": 2.5}])
    assert h.ingest("--service", "acme").success
    assert h.columns("lake_dev", "things__latest") == h.columns("lake_dev", "things")
    assert h.query(f"SELECT id, extra FROM {VIEW}") == [(1, 2.5)]


def test_no_view_when_the_setting_is_off_and_none_for_a_type_without_key(tmp_path: Path) -> None:
    h = Harness(tmp_path, PLUGIN)
    h.land("acme/landing/2025_01_01_acme_things.jsonl", [{"id": 1, "meta": {"region": "eu"}}])
    h.land("acme/landing/2025_01_01_acme_events.jsonl", [{"id": 1}])
    assert h.ingest("--service", "acme", env={"INGESTOR_LATEST_VIEWS": "false"}).success
    views = "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW'"
    assert h.query(views) == []
    h.land("acme/landing/2025_01_02_acme_things.jsonl", [{"id": 2, "meta": {"region": "eu"}}])
    h.land("acme/landing/2025_01_02_acme_events.jsonl", [{"id": 2}])
    assert h.ingest("--service", "acme").success
    assert h.query(views) == [("things__latest",)]


def test_a_key_column_the_table_lacks_is_a_plugin_problem_not_a_broken_view(tmp_path: Path) -> None:
    typo = DataType(service="acme", name="things", dataset="lake_{env}", table="things", primary_key=("idd",))
    good = DataType(service="acme", name="events", dataset="lake_{env}", table="events", primary_key=("id",),
                    schema_hints={"id": Kind.INT64})  # fmt: skip
    h = Harness(tmp_path, Declarations(typo, good))
    h.land("acme/landing/2025_01_01_acme_things.jsonl", [{"id": 1}])
    h.land("acme/landing/2025_01_01_acme_events.jsonl", [{"id": 1}])

    result = h.ingest("--service", "acme")

    assert result.success and result.totals["loaded"] == 2
    things = next(t for t in result.tables if t.data_type == "things")
    assert any("no latest view lake_dev.things__latest" in n and "idd is not a column" in n for n in things.notes)
    assert h.query("SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW'") == [
        ("events__latest",)
    ]
    check = h.cli("plugins", "--check")
    assert check.exit_code == 1
    assert "data type acme.things: primary key column(s) idd not declared" in check.stdout
    assert "acme.events" not in check.stdout
