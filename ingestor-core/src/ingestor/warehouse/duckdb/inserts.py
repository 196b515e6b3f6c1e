"""Inserting staged files into a DuckDB table: NDJSON through DuckDB's JSON reader, Arrow IPC through
Arrow scans, each statement within a memory limit sized to what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from ingestor.names import quote
from ingestor.schema import Column, Kind, Struct
from ingestor.warehouse import LoadError
from ingestor.warehouse.dialect import storable
from ingestor.warehouse.duckdb.types import DIALECT

if TYPE_CHECKING:
    import pyarrow as pa

MAX_OBJECT_SIZE = 64 * 1024 * 1024  # the largest staged NDJSON row DuckDB's JSON reader takes
READER_BUFFER = 32 * 1024 * 1024  # the least DuckDB's JSON reader buffers per thread (measured, DuckDB 1.5)
ARROW_CHUNK = 16 * 1024 * 1024  # bytes of staged Arrow files per INSERT statement
STAGED_VARIABLE = "ingestor_staged_files"
COLUMN_BYTES = 128 * 1024  # memory an insert holds per leaf column and thread (~100 KB measured, DuckDB 1.x)
WIDE_COLUMNS = 512  # from this many leaf columns an NDJSON insert runs in one thread (memory grows with both)
# DuckDB's memory for each thread of an NDJSON insert: its JSON reader holds buffers of 32 MiB and more (measured,
# DuckDB 1.5, 700 MB of 16 KB rows in one transaction: one thread needs ~40 MB, two ~128 MB)
JSON_THREAD_MB = 64


@contextmanager
def scannable(
    con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]] | pa.Table | pa.RecordBatchReader
) -> Iterator[str]:
    """Python rows (or Arrow data) as a relation SQL can read, under the name yielded.
    Binding Python lists as parameters, or executemany, costs milliseconds a row in DuckDB."""
    import pyarrow as pa

    data = pa.Table.from_pylist(rows) if isinstance(rows, list) else rows
    name = "_ingestor_scan"
    con.register(name, data)
    try:
        yield name
    finally:
        con.unregister(name)


class Inserts:
    """The statements that insert staged files, on one connection whose memory limit is `memory_mb`
    between them; `reset` undoes what an insert set for itself."""

    def __init__(self, con: duckdb.DuckDBPyConnection, memory_mb: int) -> None:
        self.con = con
        self.memory_mb = memory_mb
        self.threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])  # type: ignore[index]

    def reset(self) -> None:
        """Undo what an insert set for itself: the staged files' variable, memory limit and threads."""
        self.con.execute(f"RESET VARIABLE {STAGED_VARIABLE}")
        self.con.execute(f"SET memory_limit = '{self.memory_mb}MB'")
        self.con.execute(f"SET threads = {self.threads}")

    def _make_room(self, columns: list[Column], threads: int, extra: int = 0) -> None:
        """Raise the memory limit for an insert into these columns by what it holds per leaf column and
        thread (a record of thousands of keys needs hundreds of MB), plus `extra` bytes; `load` resets it."""
        room = threads * _leaves(columns) * COLUMN_BYTES + extra
        self.con.execute(f"SET memory_limit = '{self.memory_mb + room // 2**20}MB'")

    def ndjson(self, target: str, columns: list[Column], paths: list[Path], widest: int) -> None:
        """Insert staged NDJSON files. The JSON reader buffers twice `maximum_object_size` per thread, and at
        least READER_BUFFER: sized to the widest row, with the memory limit raised by as much for this statement;
        in as many threads as the memory limit has room for (JSON_THREAD_MB each)."""

        # Top-level timestamps are read as text and cast afterwards: much faster than in the JSON reader.
        def read_as(c: Column) -> str:
            return "VARCHAR" if c.kind is Kind.TIMESTAMP and not c.repeated else DIALECT.type_of(c)

        def select(c: Column) -> str:
            return f"{quote(c.name)}::TIMESTAMPTZ" if read_as(c) != DIALECT.type_of(c) else quote(c.name)

        # (A type's spelling may hold quoted literals, `ENUM('a', 'b')`: quotes doubled inside the SQL string.)
        spec = "{" + ", ".join(f"""'{c.name}': '{read_as(c).replace("'", "''")}'""" for c in columns) + "}"
        names = ", ".join(quote(c.name) for c in columns)
        object_size = min(MAX_OBJECT_SIZE, max(2**20, 1 << widest.bit_length()))  # a power of two above it
        threads = 1 if _leaves(columns) >= WIDE_COLUMNS else min(self.threads, max(1, self.memory_mb // JSON_THREAD_MB))
        self.con.execute(f"SET threads = {threads}")
        self._make_room(columns, threads, threads * max(READER_BUFFER, 2 * object_size))
        # The paths reach read_json as a variable: a list bound as a parameter costs ~0.3 ms an item.
        with scannable(self.con, [{"path": str(p)} for p in paths]) as staged:
            self.con.execute(f"SET VARIABLE {STAGED_VARIABLE} = (SELECT list(path) FROM {staged})")  # noqa: S608
        self.con.execute(
            f"INSERT INTO {target} ({names}) SELECT {', '.join(select(c) for c in columns)} FROM read_json("  # noqa: S608
            f"getvariable('{STAGED_VARIABLE}'), format = 'newline_delimited', columns = {spec}, "
            f"maximum_object_size = {object_size})"
        )
        self.reset()  # the Arrow insert that may follow runs within the usual memory limit

    def arrow(self, target: str, schema: Struct, paths: list[Path]) -> None:
        """Insert Arrow IPC staged files: one statement per run of same-shaped files of at most
        ARROW_CHUNK bytes (DuckDB keeps a statement's Arrow data alive until it ends), in one
        thread (parallel appends held more rows in memory and left a costlier checkpoint).
        Each column is cast to the table's type; struct fields match by name."""
        import pyarrow as pa

        chunks: list[tuple[pa.Schema, list[Path]]] = []
        size = 0
        for path in paths:
            shape, file_size = pa.ipc.open_file(pa.memory_map(str(path))).schema, path.stat().st_size
            if not chunks or chunks[-1][0] != shape or size + file_size > ARROW_CHUNK:
                chunks.append((shape, []))
                size = 0
            chunks[-1][1].append(path)
            size += file_size
        self.con.execute("SET threads = 1")  # reset by `load` once the transaction has ended
        self._make_room(storable(schema), 1)
        for shape, chunk in chunks:
            columns = [schema.get(name) for name in shape.names]
            if any(c is None for c in columns):
                raise LoadError(f"staged column(s) missing from the schema: {shape.names}")
            names = ", ".join(quote(c.name) for c in columns if c is not None)
            select = ", ".join(f"CAST({quote(c.name)} AS {DIALECT.type_of(c)})" for c in columns if c is not None)
            batches = (b for p in chunk for b in pa.ipc.open_file(pa.memory_map(str(p))).read_all().to_batches())
            with scannable(self.con, pa.RecordBatchReader.from_batches(shape, batches)) as staged:
                self.con.execute(f"INSERT INTO {target} ({names}) SELECT {select} FROM {staged}")  # noqa: S608


def _leaves(columns: list[Column]) -> int:
    """How many columns these are once structs are flattened."""
    return sum(_leaves(storable(c.fields)) if c.kind is Kind.STRUCT and c.fields else 1 for c in columns)
