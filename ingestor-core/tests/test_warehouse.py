"""The warehouse skeleton: the dialects' type maps both ways, a DuckDB file held by another process, and DuckDB's
inserts within their memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestor.errors import TransientError
from ingestor.run.tables import LiveSchemas
from ingestor.schema import Column, Decimals, Integers, Kind, Native, Struct
from ingestor.warehouse import LoadError, WarehouseBusy
from ingestor.warehouse.duckdb import DuckDBWarehouse
from ingestor.warehouse.duckdb.inserts import Inserts
from ingestor.warehouse.duckdb.types import DIALECT


def test_a_dialect_spells_nested_types_and_reads_stored_names_back() -> None:
    fields = Struct()
    fields.add(Column("n", Kind.INT64))
    fields.add(Column("empty", Kind.STRUCT, fields=Struct()))  # no field yet: cannot be stored
    col = Column("s", Kind.STRUCT, repeated=True, fields=fields)
    assert DIALECT.type_of(col) == 'STRUCT("n" BIGINT)[]'
    assert [DIALECT.kind_of(name) for name in ("BIGINT", "timestamp with time zone", "integer", "uuid")] == [
        Kind.INT64,
        Kind.TIMESTAMP,
        None,  # types the engine does not write: read as `Native` types (test_native_types)
        None,
    ]


def test_duckdb_types_the_engine_does_not_write_are_read_as_they_are(tmp_path: Path) -> None:
    """They were read as the nearest kind (UBIGINT as INT64, DECIMAL as FLOAT64) or as STRING (MAP), so values
    that did not fit them reached the warehouse, and widening altered them to DOUBLE."""
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    warehouse.con.execute("CREATE SCHEMA d")
    warehouse.con.execute(
        "CREATE TABLE d.t (a UBIGINT, b DECIMAL(4,2), c MAP(VARCHAR, DOUBLE), e MAP(INTEGER, BIGINT), f UUID, "
        "g INTEGER[], h STRUCT(x HUGEINT), i FLOAT, j TIMESTAMP)"
    )
    schema = warehouse.table_schema("d", "t")
    assert schema is not None
    assert {c.name: c.type_name() for c in schema.columns.values()} == {
        "a": "UBIGINT",
        "b": "DECIMAL(4,2)",
        "c": "MAP(VARCHAR, DOUBLE)",
        "e": "MAP(INTEGER, BIGINT)",
        "f": "UUID",
        "g": "ARRAY<INTEGER>",
        "h": "STRUCT<x HUGEINT>",
        "i": "FLOAT",
        "j": "TIMESTAMP",  # a naive TIMESTAMP takes the UTC text staged for a TIMESTAMPTZ
    }
    assert [DIALECT.type_of(c) for c in schema.columns.values()][-4:-1] == ["INTEGER[]", 'STRUCT("x" HUGEINT)', "FLOAT"]
    natives = {c.name: c.native for c in schema.columns.values()}
    assert natives["a"] == Integers("UBIGINT", 0, 2**64 - 1) and natives["b"] == Decimals("DECIMAL(4,2)", 4, 2)
    assert natives["c"] is not None and natives["c"].takes({"k": 0.5}) and not natives["c"].takes({"k": "x"})
    assert natives["e"] == Native("MAP(INTEGER, BIGINT)")  # keys of another type than text: takes nothing
    warehouse.close()


def test_the_largest_integer_of_a_column_is_one_query(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    warehouse.con.execute("CREATE SCHEMA d")
    warehouse.con.execute("CREATE TABLE d.t (n BIGINT, l BIGINT[], e BIGINT)")
    warehouse.con.execute("INSERT INTO d.t VALUES (5, [1, -9223372036854775808], NULL), (-7, NULL, NULL)")
    schema = warehouse.table_schema("d", "t")
    assert schema is not None
    largest = {c.name: warehouse.largest_integer("d", "t", c) for c in schema.columns.values()}
    assert largest == {"n": 7, "l": 2**63, "e": 0}
    warehouse.close()


def test_a_run_asks_the_warehouse_once_per_column(tmp_path: Path) -> None:
    asked: list[str] = []

    class Counting(DuckDBWarehouse):
        def largest_integer(self, dataset: str, table: str, column: Column) -> int:
            asked.append(column.name)
            return super().largest_integer(dataset, table, column)

    warehouse = Counting(tmp_path / "w.duckdb")
    warehouse.con.execute("CREATE SCHEMA d")
    warehouse.con.execute("CREATE TABLE d.t (n BIGINT, m BIGINT)")
    warehouse.con.execute("INSERT INTO d.t VALUES (9007199254740993, 9007199254740992)")
    schemas = LiveSchemas(warehouse)
    assert [schemas.large_ints("d", "t", name) for name in ("n", "N", "m")] == [True, True, False]
    assert asked == ["n", "m"]
    table = schemas.get("d", "t")  # the schema a later builder starts from knows it too
    assert table is not None and [c.large_ints for c in table.columns.values()] == [True, False]
    warehouse.close()


def test_a_duckdb_file_another_process_holds_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    hold = "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\nsys.stdin.read()\n"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseBusy) as busy:
            DuckDBWarehouse(path)
        assert isinstance(busy.value, LoadError) and isinstance(busy.value, TransientError)
        assert "lock" in str(busy.value)  # DuckDB's own words are kept in the message
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    DuckDBWarehouse(path).close()  # free again


def test_an_ndjson_insert_makes_room_for_duckdbs_json_reader(tmp_path: Path) -> None:
    """DuckDB's JSON reader buffers at least 32 MiB a thread, however small the rows: an insert of a part's many
    small staged files, at DuckDB's smallest memory from the budget (64 MB, a 512 MiB run), in four threads, raises
    its memory limit for that (it was refused: out of memory, and each file rejected in turn)."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET threads = 4")
    con.execute("SET memory_limit = '64MB'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE TABLE t (n BIGINT)")
    paths = []
    for n in range(2000):
        paths.append(tmp_path / f"{n:04d}.jsonl")
        paths[-1].write_bytes(b'{"n": %d}\n' % n)
    inserts = Inserts(con, memory_mb=64)
    con.execute("BEGIN TRANSACTION")
    inserts.ndjson('"t"', [Column("n", Kind.INT64)], paths, widest=12)
    con.execute("COMMIT")
    inserts.reset()
    assert con.execute("SELECT count(*), count(DISTINCT n) FROM t").fetchall() == [(2000, 2000)]
