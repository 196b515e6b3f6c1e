"""Columns a data type declares exist from the first load, with their type, even when no value
is present; a table that already has them keeps its own types."""

from __future__ import annotations

import duckdb
import pytest

from ingestor import hookimpl
from ingestor.catalog import DataType
from ingestor.result import IngestResult
from ingestor.schema import Declared, Kind
from ingestor.testing import Harness

DIVES = Declared("dive", Kind.STRUCT, fields=(Declared("gases", Kind.STRING, repeated=True),))
COLUMNS = (
    Declared("id", Kind.INT64),
    Declared("day", Kind.STRING),
    Declared("genres", Kind.JSON),
    DIVES,
    Declared("images", Kind.STRUCT, repeated=True, fields=(Declared("url", Kind.STRING), Declared("h", Kind.INT64))),
)
FILE = "acme/landing/2025_01_01_00_00_acme_things.jsonl"


class Declaring:
    @hookimpl
    def list_types(self) -> list[DataType]:
        return [DataType(service="acme", name="things", dataset="lake_{env}", table="things", columns=COLUMNS)]


def column_types(h: Harness) -> dict[str, str]:
    rows = h.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'lake_dev' AND table_name = 'things'"
    )
    return dict(rows)


def test_declared_columns_exist_from_the_first_load_even_without_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = Harness(tmp_path, Declaring())
    h.land(FILE, [{"id": 1, "dive": {"gases": []}}, {"id": 2}])
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stderr
    types = column_types(h)
    assert types["day"] == "VARCHAR" and types["genres"] == "JSON"
    assert types["dive"] == "STRUCT(gases VARCHAR[])"
    assert types["images"] == "STRUCT(url VARCHAR, h BIGINT)[]"
    assert h.query("SELECT id, dive.gases FROM lake_dev.things ORDER BY id") == [(1, []), (2, None)]


def test_values_of_another_type_keep_the_declared_type(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = Harness(tmp_path, Declaring())
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
    h = Harness(tmp_path, Declaring())
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
