"""The warehouse skeleton: the dialects' type maps both ways, a DuckDB file held by another process, and DuckDB's
inserts within their memory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestor.schema import Column, Kind, Struct
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
    assert [DIALECT.kind_of(name) for name in ("BIGINT", "integer", "timestamp with time zone", "uuid")] == [
        Kind.INT64,
        Kind.INT64,
        Kind.TIMESTAMP,
        Kind.STRING,
    ]


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
        assert isinstance(busy.value, LoadError) and not busy.value.data_error
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
