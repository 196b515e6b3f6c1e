"""The embedded warehouse: one DuckDB file; datasets are schemas named as in BigQuery.

SQL text is built only from identifiers that `names.quote` validated and quoted (the
`noqa: S608` marks); every value travels as a query parameter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import duckdb
from duckdb.sqltypes import DuckDBPyType

from ingestor import faults
from ingestor.history import HISTORY_TABLE, from_ledger, history_schema
from ingestor.ledger import LEDGER_TABLE, LedgerEntry, ledger_schema
from ingestor.names import quote, validate_identifier
from ingestor.schema import Column, Kind, Struct, mark_stored
from ingestor.warehouse import (
    ARROW_SUFFIX,
    LoadError,
    LoadReport,
    LoadRequest,
    ViewSources,
    WarehouseBusy,
    union_view_select,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from ingestor.settings import Settings

_TYPES = {
    Kind.STRING: "VARCHAR",
    Kind.INT64: "BIGINT",
    Kind.FLOAT64: "DOUBLE",
    Kind.BOOL: "BOOLEAN",
    Kind.TIMESTAMP: "TIMESTAMPTZ",
    Kind.DATE: "DATE",
    Kind.JSON: "JSON",
}
_KINDS = {
    "varchar": Kind.STRING,
    "bigint": Kind.INT64,
    "integer": Kind.INT64,
    "smallint": Kind.INT64,
    "tinyint": Kind.INT64,
    "hugeint": Kind.INT64,
    "ubigint": Kind.INT64,
    "uinteger": Kind.INT64,
    "double": Kind.FLOAT64,
    "float": Kind.FLOAT64,
    "decimal": Kind.FLOAT64,
    "boolean": Kind.BOOL,
    "timestamp with time zone": Kind.TIMESTAMP,
    "timestamp": Kind.TIMESTAMP,
    "date": Kind.DATE,
}
_DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.BinderException,
    duckdb.ConstraintException,
    duckdb.OutOfMemoryException,  # split the batch to isolate what cannot fit (a very wide record)
)
MAX_OBJECT_SIZE = 64 * 1024 * 1024  # the largest staged NDJSON row DuckDB's JSON reader takes
MEMORY_MB = 256  # DuckDB's memory limit, raised during an NDJSON insert for its reader's buffers
ARROW_CHUNK = 16 * 1024 * 1024  # bytes of staged Arrow files per INSERT statement
STAGED_VARIABLE = "ingestor_staged_files"
COLUMN_BYTES = 128 * 1024  # memory an insert holds per leaf column and thread (~100 KB measured, DuckDB 1.x)
WIDE_COLUMNS = 512  # from this many leaf columns an NDJSON insert runs in one thread (memory grows with both)


def duckdb_type(col: Column) -> str:
    """The DuckDB type of a column."""
    if col.kind is Kind.STRUCT:
        assert col.fields is not None
        inner = "STRUCT(" + ", ".join(f"{quote(c.name)} {duckdb_type(c)}" for c in _storable(col.fields)) + ")"
    else:
        inner = _TYPES[col.kind]
    return inner + "[]" if col.repeated else inner


def _storable(struct: Struct) -> list[Column]:
    """Columns a table can hold (a STRUCT with no field yet cannot be created)."""
    return [c for c in struct.columns.values() if c.kind is not Kind.STRUCT or (c.fields and _storable(c.fields))]


def _column_from(name: str, dtype: DuckDBPyType) -> Column:
    type_id = dtype.id
    if type_id == "list":
        inner = _column_from(name, cast(DuckDBPyType, dtype.children[0][1]))
        inner.set_type(inner.kind, True, inner.fields)
        return inner
    if type_id == "struct":
        fields = Struct()
        for child_name, child_type in dtype.children:
            fields.add(_column_from(str(child_name), cast(DuckDBPyType, child_type)))
        return Column(name, Kind.STRUCT, fields=fields)
    if str(dtype) == "JSON":
        return Column(name, Kind.JSON)
    return Column(name, _KINDS.get(type_id, Kind.STRING))


class DuckDBWarehouse:
    """A DuckDB database file. Every load is one transaction: DDL, rows and ledger."""

    max_parallel_loads = 1  # one connection, one transaction at a time
    loads_arrow = True

    def __init__(self, path: Path, read_only: bool = False, memory_mb: int = MEMORY_MB) -> None:
        self.path = path
        self.url = "duckdb:///" + str(path.resolve()).lstrip("/")
        self.read_only = read_only
        if read_only and not path.exists():
            self.con = duckdb.connect(":memory:")  # a dry run never creates the file
        else:
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.con = duckdb.connect(str(path), read_only=read_only)
            except duckdb.IOException as error:
                if "Could not set lock" in str(error) or "Conflicting lock" in str(error):  # another process's
                    raise WarehouseBusy(f"cannot open {path}: {error}") from error
                raise LoadError(f"cannot open {path}: {error}", data_error=False) from error
        self.con.execute("SET TimeZone = 'UTC'")
        # Bounded memory whatever the batch size: DuckDB spills to `<file>.tmp` beyond this.
        self.memory_mb = memory_mb
        self.threads = int(self.con.execute("SELECT current_setting('threads')").fetchone()[0])  # type: ignore[index]
        self.con.execute(f"SET memory_limit = '{self.memory_mb}MB'")
        self.con.execute("SET preserve_insertion_order = false")
        self._names: set[tuple[str, str]] | None = None  # (schema, table or view), read once per change

    @classmethod
    def from_url(cls, url: str, settings: Settings, read_only: bool = False) -> DuckDBWarehouse:
        """`duckdb:///abs/path.duckdb` or `duckdb://relative/path.duckdb`."""
        path = Path(unquote(url.removeprefix("duckdb://")))
        return cls(path, read_only=read_only, memory_mb=settings.duckdb.memory_mb)

    def _exists(self, dataset: str, table: str) -> bool:
        """Whether the table (or view) exists. The names are read once and again after each change:
        this process holds the database file, so only its own statements change them (a query of
        information_schema cost ~4 ms, and a run made five per data type)."""
        if self._names is None:
            listed = self.con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
            self._names = {(schema, name) for schema, name in listed}
        return (dataset, table) in self._names

    def table_schema(self, dataset: str, table: str) -> Struct | None:
        """Columns of `dataset.table`, or None."""
        if not self._exists(dataset, table):
            return None
        relation = self.con.sql(f"SELECT * FROM {quote(dataset)}.{quote(table)} LIMIT 0")  # noqa: S608
        struct = Struct()
        for name, dtype in zip(relation.columns, relation.types, strict=True):
            struct.add(_column_from(name, dtype))
        return mark_stored(struct)

    def loaded(self, datasets: set[str], names: list[str]) -> dict[str, list[LedgerEntry]]:
        """Ledger rows per object name found in the ledgers of `datasets`."""
        found: dict[str, list[LedgerEntry]] = {}
        fields = list(LedgerEntry.model_fields)
        if not names:
            return found
        for dataset in sorted(datasets):
            if not self._exists(validate_identifier(dataset), LEDGER_TABLE):
                continue
            ledger = f"{quote(dataset)}.{LEDGER_TABLE}"
            with self._scannable([{"source_name": name} for name in names]) as wanted:
                selected = ", ".join(quote(f) for f in fields)
                query = f"SELECT {selected} FROM {ledger} WHERE source_name IN (SELECT * FROM {wanted})"  # noqa: S608
                rows = self.con.execute(query).fetchall()
            for row in rows:
                entry = LedgerEntry(**dict(zip(fields, row, strict=True)))
                found.setdefault(entry.source_name, []).append(entry)
        return found

    def load(self, request: LoadRequest) -> LoadReport:
        """Create or evolve the table, insert the staged rows and the ledger rows, in one transaction."""
        dataset, table = quote(request.dataset), quote(request.table)
        target = f"{dataset}.{table}"
        columns = _storable(request.schema)
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
            ledger_columns = ", ".join(f"{quote(c.name)} {duckdb_type(c)}" for c in ledger_schema().columns.values())
            con.execute(f"CREATE TABLE IF NOT EXISTS {dataset}.{LEDGER_TABLE} ({ledger_columns})")
            if not self._exists(request.dataset, request.table):
                definition = ", ".join(f"{quote(c.name)} {duckdb_type(c)}" for c in columns)
                con.execute(f"CREATE TABLE {target} ({definition})")
            else:
                for top in _touched_top_level(request):
                    col = request.schema.get(top)
                    assert col is not None
                    if col.stored:
                        con.execute(f"ALTER TABLE {target} ALTER COLUMN {quote(col.name)} TYPE {duckdb_type(col)}")
                    else:
                        con.execute(f"ALTER TABLE {target} ADD COLUMN {quote(col.name)} {duckdb_type(col)}")
            rows = 0
            if request.files:
                ndjson = [f for f in request.files if f.path.suffix != ARROW_SUFFIX]
                if ndjson:
                    self._insert_ndjson(target, columns, [f.path for f in ndjson], max(f.widest for f in ndjson))
                arrow = [f.path for f in request.files if f.path.suffix == ARROW_SUFFIX]
                if arrow:
                    self._insert_arrow(target, request.schema, arrow)
                rows = sum(f.entry.rows for f in request.files)
                faults.checkpoint("before_ledger")  # test-only: rows in, ledger not yet, same transaction
                with self._scannable([f.entry.model_dump() for f in request.files]) as entries:
                    con.execute(f"INSERT INTO {dataset}.{LEDGER_TABLE} BY NAME SELECT * FROM {entries}")  # noqa: S608
                    if request.history_dataset:  # the loaded files' history rows, committed with them
                        history = self._history_table(request.history_dataset)
                        names, select = from_ledger(quote)
                        con.execute(f"INSERT INTO {history} ({names}) SELECT {select} FROM {entries}")  # noqa: S608
            con.execute("COMMIT")
        except Exception as error:
            con.execute("ROLLBACK")
            raise LoadError(str(error).splitlines()[0], data_error=isinstance(error, _DATA_ERRORS)) from error
        finally:
            self._names = None
            self._reset()  # after COMMIT or ROLLBACK: in an aborted transaction it would fail and hide the error
        return LoadReport(rows=rows)

    def _history_table(self, dataset: str) -> str:
        """The history table of `dataset`, created if missing (inside the caller's transaction)."""
        definition = ", ".join(f"{quote(c.name)} {duckdb_type(c)}" for c in history_schema().columns.values())
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(dataset)}")
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {quote(dataset)}.{HISTORY_TABLE} ({definition})")
        return f"{quote(dataset)}.{HISTORY_TABLE}"

    def append_history(self, dataset: str, rows: list[dict[str, Any]]) -> None:
        """Append history rows (see ingestor.history) in one transaction."""
        columns = list(history_schema().columns.values())
        self.con.execute("BEGIN TRANSACTION")
        try:
            history = self._history_table(dataset)
            names = ", ".join(quote(c.name) for c in columns)
            select = ", ".join(f"CAST({quote(c.name)} AS {duckdb_type(c)})" for c in columns)
            complete = [{c.name: row.get(c.name) for c in columns} for row in rows]  # a missing key is NULL
            with self._scannable(complete) as scan:
                self.con.execute(f"INSERT INTO {history} ({names}) SELECT {select} FROM {scan}")  # noqa: S608
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        finally:
            self._names = None

    def read_history(self, dataset: str, query: str, since: datetime) -> list[dict[str, Any]]:
        """Rows of a query over the history table (see `Warehouse.read_history`); none if it is absent."""
        if not self._exists(validate_identifier(dataset), HISTORY_TABLE):
            return []
        cursor = self.con.execute(
            query.format(history=f"{quote(dataset)}.{HISTORY_TABLE}", since="$since", rows=quote("rows")),
            {"since": since},
        )
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _reset(self) -> None:
        """Undo what an insert set for itself: the staged files' variable, memory limit and threads."""
        self.con.execute(f"RESET VARIABLE {STAGED_VARIABLE}")
        self.con.execute(f"SET memory_limit = '{self.memory_mb}MB'")
        self.con.execute(f"SET threads = {self.threads}")

    @contextmanager
    def _scannable(self, rows: list[dict[str, Any]] | pa.Table | pa.RecordBatchReader) -> Iterator[str]:
        """Python rows (or Arrow data) as a relation SQL can read, under the name yielded.
        Binding Python lists as parameters, or executemany, costs milliseconds a row in DuckDB."""
        import pyarrow as pa

        data = pa.Table.from_pylist(rows) if isinstance(rows, list) else rows
        name = "_ingestor_scan"
        self.con.register(name, data)
        try:
            yield name
        finally:
            self.con.unregister(name)

    def _make_room(self, columns: list[Column], threads: int, extra: int = 0) -> None:
        """Raise the memory limit for an insert into these columns by what it holds per leaf column and
        thread (a record of thousands of keys needs hundreds of MB), plus `extra` bytes; `load` resets it."""
        room = threads * _leaves(columns) * COLUMN_BYTES + extra
        self.con.execute(f"SET memory_limit = '{self.memory_mb + room // 2**20}MB'")

    def _insert_ndjson(self, target: str, columns: list[Column], paths: list[Path], widest: int) -> None:
        """Insert staged NDJSON files. The JSON reader buffers twice `maximum_object_size` per thread:
        sized to the widest row, with the memory limit raised by as much for this statement."""

        # Top-level timestamps are read as text and cast afterwards: much faster than in the JSON reader.
        def read_as(c: Column) -> str:
            return "VARCHAR" if c.kind is Kind.TIMESTAMP and not c.repeated else duckdb_type(c)

        def select(c: Column) -> str:
            return f"{quote(c.name)}::TIMESTAMPTZ" if read_as(c) != duckdb_type(c) else quote(c.name)

        spec = "{" + ", ".join(f"'{c.name}': '{read_as(c)}'" for c in columns) + "}"
        names = ", ".join(quote(c.name) for c in columns)
        object_size = min(MAX_OBJECT_SIZE, max(2**20, 1 << widest.bit_length()))  # a power of two above it
        threads = 1 if _leaves(columns) >= WIDE_COLUMNS else self.threads
        self.con.execute(f"SET threads = {threads}")
        self._make_room(columns, threads, 2 * threads * object_size)
        # The paths reach read_json as a variable: a list bound as a parameter costs ~0.3 ms an item.
        with self._scannable([{"path": str(p)} for p in paths]) as staged:
            self.con.execute(f"SET VARIABLE {STAGED_VARIABLE} = (SELECT list(path) FROM {staged})")  # noqa: S608
        self.con.execute(
            f"INSERT INTO {target} ({names}) SELECT {', '.join(select(c) for c in columns)} FROM read_json("  # noqa: S608
            f"getvariable('{STAGED_VARIABLE}'), format = 'newline_delimited', columns = {spec}, "
            f"maximum_object_size = {object_size})"
        )
        self._reset()  # the Arrow insert that may follow runs within the usual memory limit

    def _insert_arrow(self, target: str, schema: Struct, paths: list[Path]) -> None:
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
        self._make_room(_storable(schema), 1)
        for shape, chunk in chunks:
            columns = [schema.get(name) for name in shape.names]
            if any(c is None for c in columns):
                raise LoadError(f"staged column(s) missing from the schema: {shape.names}", data_error=False)
            names = ", ".join(quote(c.name) for c in columns if c is not None)
            select = ", ".join(f"CAST({quote(c.name)} AS {duckdb_type(c)})" for c in columns if c is not None)
            batches = (b for p in chunk for b in pa.ipc.open_file(pa.memory_map(str(p))).read_all().to_batches())
            with self._scannable(pa.RecordBatchReader.from_batches(shape, batches)) as staged:
                self.con.execute(f"INSERT INTO {target} ({names}) SELECT {select} FROM {staged}")  # noqa: S608

    def ensure_view(
        self,
        dataset: str,
        name: str,
        columns: list[str],
        sources: ViewSources,
    ) -> None:
        """CREATE OR REPLACE VIEW over the sources (all names validated and quoted)."""
        select = union_view_select(columns, sources, quote, lambda ds, table: f"{quote(ds)}.{quote(table)}")
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(dataset)}")
        self.con.execute(f"CREATE OR REPLACE VIEW {quote(dataset)}.{quote(name)} AS {select}")
        self._names = None

    def close(self) -> None:
        """Close the connection (and the file lock)."""
        self.con.close()


def _leaves(columns: list[Column]) -> int:
    """How many columns these are once structs are flattened."""
    return sum(_leaves(_storable(c.fields)) if c.kind is Kind.STRUCT and c.fields else 1 for c in columns)


def _touched_top_level(request: LoadRequest) -> list[str]:
    """Top-level columns that a change adds or alters, in schema order."""
    touched = {change.path[0].lower() for change in request.changes}
    return [c.name for c in _storable(request.schema) if c.name.lower() in touched]
