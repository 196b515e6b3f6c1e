"""Columns a data type declares exist from the first load, with their type, even when no value
is present; a table that already has them keeps its own types."""

from __future__ import annotations

import duckdb
import pytest

from ingestor.catalog import DataType
from ingestor.result import IngestResult
from ingestor.schema import Declared, Kind
from ingestor.testing import Declarations, Harness

DIVES = Declared("dive", Kind.STRUCT, fields=(Declared("gases", Kind.STRING, repeated=True),))
COLUMNS = (
    Declared("id", Kind.INT64),
    Declared("day", Kind.STRING),
    Declared("genres", Kind.JSON),
    DIVES,
    Declared("images", Kind.STRUCT, repeated=True, fields=(Declared("url", Kind.STRING), Declared("h", Kind.INT64))),
)
FILE = "acme/landing/2025_01_01_00_00_acme_things.jsonl"


DECLARING = Declarations(DataType(service="acme", name="things", dataset="lake_{env}", table="things", columns=COLUMNS))


def column_types(h: Harness) -> dict[str, str]:
    return h.columns("lake_dev", "things")


def test_declared_columns_exist_from_the_first_load_even_without_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = Harness(tmp_path, DECLARING)
    h.land(FILE, [{"id": 1, "dive": {"gases": []}}, {"id": 2}])
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stderr
    types = column_types(h)
    assert types["day"] == "VARCHAR" and types["genres"] == "JSON"
    assert types["dive"] == "STRUCT(gases VARCHAR[])"
    assert types["images"] == "STRUCT(url VARCHAR, h BIGINT)[]"
    assert h.query("SELECT id, dive.gases FROM lake_dev.things ORDER BY id") == [(1, []), (2, None)]


def test_values_of_another_type_keep_the_declared_type(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = Harness(tmp_path, DECLARING)
    h.land(FILE, [{"id": 1, "day": 5, "genres": ["a"], "dive": {"gases": ["air"]}}])
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stderr
    assert column_types(h)["day"] == "VARCHAR"
    assert h.query("SELECT day, day__v_json, genres, dive.gases FROM lake_dev.things") == [
        (None, "5", '["a"]', ["air"])
    ]
    notes = IngestResult.model_validate_json(run.stdout).tables[0].notes
    assert any("day: value does not fit the declared STRING" in note for note in notes)


def test_a_table_that_exists_keeps_its_types_and_gains_missing_fields(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = Harness(tmp_path, DECLARING)
    with duckdb.connect(str(h.database)) as db:
        db.execute("CREATE SCHEMA lake_dev")
        db.execute("CREATE TABLE lake_dev.things (id DOUBLE, genres VARCHAR, dive STRUCT(other BIGINT))")
    h.land(FILE, [{"id": 1}])
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stderr
    types = column_types(h)
    assert types["id"] == "DOUBLE" and types["genres"] == "VARCHAR"
    assert types["dive"] == "STRUCT(other BIGINT, gases VARCHAR[])"
    notes = IngestResult.model_validate_json(run.stdout).tables[0].notes
    assert "genres: the table's STRING is kept (declared JSON)" in notes


def test_a_struct_declared_without_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="has fields"):
        Declared("x", Kind.STRUCT)
    with pytest.raises(ValueError, match="column"):
        DataType(service="a", name="b", dataset="d", table="t", columns=(Declared("bad name", Kind.STRING),))


# A type as the seed system's tables are: base-name source, `data_type` on every row.
SEED_LIKE = Declarations(
    DataType(
        service="acme",
        name="things",
        dataset="lake_{env}",
        table="things",
        columns=COLUMNS,
        column_defaults={"data_type": "things"},
        source_file_value="name",
    )
)


def test_an_existing_seed_table_takes_our_rows_as_its_types_say(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Its column types win wherever a value converts without loss: no file rejected, no column
    altered, rows appended."""
    h = Harness(tmp_path, SEED_LIKE)
    seed_schema = (
        "_dp_inserted_at VARCHAR, _source_file VARCHAR, data_type VARCHAR, id BIGINT, score DOUBLE, "
        "label VARCHAR, meta VARCHAR, tags VARCHAR[], day VARCHAR, dive STRUCT(gases VARCHAR[])"
    )
    with duckdb.connect(str(h.database)) as db:
        db.execute("CREATE SCHEMA lake_dev")
        db.execute(f"CREATE TABLE lake_dev.things ({seed_schema})")
        db.execute("INSERT INTO lake_dev.things (_dp_inserted_at, id) VALUES ('2025-01-01T00:00:00.000001', 0)")
    before = column_types(h)
    h.land(
        "acme/landing/sub/2025_01_02_00_00_acme_things.jsonl",
        [
            {"id": 1, "score": 3, "label": 5, "meta": {"a": [1, True]}, "tags": [1, "x", 2.5], "day": "2025-01-02"},
            {"id": 2, "score": 2.5, "label": False, "meta": "plain", "tags": "one", "extra": 7},
        ],
    )
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stderr
    result = IngestResult.model_validate_json(run.stdout)
    assert [f.status.value for f in result.files] == ["loaded"]
    after = column_types(h)
    assert {k: after[k] for k in before} == before  # no column altered
    assert set(after) - set(before) == {"extra", "genres", "images", "tags__v_json"}  # only new columns added
    rows = h.query(
        "SELECT id, score, label, meta, tags, day, data_type, _source_file, _dp_inserted_at "
        "FROM lake_dev.things ORDER BY id"
    )
    assert rows[0] == (0, None, None, None, None, None, None, None, "2025-01-01T00:00:00.000001")
    inserted = rows[1][8]
    assert rows[1][:8] == (
        1,
        3.0,
        "5",
        '{"a":[1,true]}',
        ["1", "x", "2.5"],
        "2025-01-02",
        "things",
        "2025_01_02_00_00_acme_things.jsonl",
    )
    assert rows[2][:5] == (2, 2.5, "false", "plain", None)
    assert "+" not in inserted and inserted.startswith(result.started_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert h.query("SELECT count(*) FROM lake_dev.things WHERE tags__v_json IS NOT NULL") == [(1,)]
