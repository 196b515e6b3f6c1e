"""`DuckDBWarehouse`: the hooks of `SQLWarehouse` on one connection, and a load as one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import duckdb

from ingestor.names import quote
from ingestor.ops.history import HISTORY_TABLE, history_schema
from ingestor.schema import Column, Struct
from ingestor.staging.staged import ARROW_SUFFIX, StagedFile, unstaged
from ingestor.warehouse import LoadError, LoadRequest, RowsRefused, TooLarge, WarehouseBusy, WarehouseUnavailable
from ingestor.warehouse import rebuild as reads
from ingestor.warehouse.dialect import storable
from ingestor.warehouse.duckdb.inserts import Inserts, scannable
from ingestor.warehouse.duckdb.types import DATA_ERRORS, DIALECT, column_of
from ingestor.warehouse.rebuild import RebuildRequest
from ingestor.warehouse.sql import SQLWarehouse, touched

if TYPE_CHECKING:
    from ingestor.settings import Settings

_LOCKED = ("Could not set lock", "Conflicting lock")  # DuckDB's words for a file another process holds
_DURABLE = "COMMIT succeeded and is durable"  # DuckDB's words for a commit whose checkpoint then failed
log = logging.getLogger("ingestor.warehouse")
ENTRIES = "_ingestor_staged_entries"  # the relation of a load's ledger entries
MEMORY_MB = 256  # DuckDB's memory limit, raised during an insert for what it holds (see `Inserts`)
# History rows appended as bound values, not an Arrow scan: a run that loads nothing appends one (its own), and
# an Arrow scan costs DuckDB's import of pyarrow.dataset (~0.1 s); values cost ~1.5 ms a row
FEW_ROWS = 16


class DuckDBWarehouse(SQLWarehouse):
    """A DuckDB database file. Every load is one transaction: DDL, rows, ledger and history rows."""

    max_parallel_loads = 1  # one connection, one transaction at a time
    loads_arrow = True
    dialect = DIALECT

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
                if any(words in str(error) for words in _LOCKED):
                    raise WarehouseBusy(str(error)) from error  # DuckDB's words name the file and the holder
                raise WarehouseUnavailable(f"cannot open {path}: {error}") from error
        self.con.execute("SET TimeZone = 'UTC'")
        # Bounded memory whatever the batch size: DuckDB spills to `<file>.tmp` beyond this.
        self.inserts = Inserts(self.con, memory_mb)
        self.con.execute(f"SET memory_limit = '{memory_mb}MB'")
        self.con.execute("SET preserve_insertion_order = false")
        self._names: set[tuple[str, str]] | None = None  # (schema, table or view), read once per change

    @classmethod
    def from_url(cls, url: str, settings: Settings, read_only: bool = False) -> DuckDBWarehouse:
        """`duckdb:///abs/path.duckdb` or `duckdb://relative/path.duckdb`."""
        path = Path(unquote(url.removeprefix("duckdb://")))
        return cls(path, read_only=read_only, memory_mb=settings.budget.duckdb_mb)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """DuckDB's errors reading schemas and the ledger as LoadError (e.g. a database an earlier full disk
        invalidated): the engine leaves that data type's files in landing and goes on."""
        try:
            yield
        except duckdb.Error as error:
            raise WarehouseUnavailable(said(error)) from error

    def _exists(self, dataset: str, table: str) -> bool:
        """Whether the table (or view) exists. The names are read once and again after each change:
        this process holds the database file, so only its own statements change them (a query of
        information_schema cost ~4 ms, and a run made five per data type)."""
        if self._names is None:
            listed = self.con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
            self._names = {(schema, name) for schema, name in listed}
        return (dataset, table) in self._names

    def _stored_columns(self, dataset: str, table: str) -> list[Column] | None:
        if not self._exists(dataset, table):
            return None
        relation = self.con.sql(f"SELECT * FROM {DIALECT.table(dataset, table)} LIMIT 0")  # noqa: S608
        return [column_of(name, dtype) for name, dtype in zip(relation.columns, relation.types, strict=True)]

    def _ledger_rows(self, dataset: str, names: list[str]) -> list[dict[str, Any]]:
        with scannable(self.con, [{"source_name": name} for name in names]) as wanted:
            query = f"{self._ledger_query(dataset)} WHERE source_name IN (SELECT * FROM {wanted})"  # noqa: S608
            return self._select(query, {})

    def _select(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params)
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _execute(self, sql: str) -> None:
        self.con.execute(sql)
        self._names = None

    def _ensure_dataset(self, dataset: str) -> None:
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(dataset)}")

    def _ensure_table(self, dataset: str, table: str, schema: Struct) -> None:
        definition = DIALECT.definition(schema.columns.values())
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {DIALECT.table(dataset, table)} ({definition})")

    def _create_table(self, request: LoadRequest) -> None:
        definition = DIALECT.definition(storable(request.schema))
        self.con.execute(f"CREATE TABLE {DIALECT.table(request.dataset, request.table)} ({definition})")

    def _evolve(self, request: LoadRequest) -> None:
        """ADD COLUMN for a new column; ALTER COLUMN TYPE for a widened one or a struct with new fields."""
        target = DIALECT.table(request.dataset, request.table)
        for col, _ in touched(request):
            if col.stored:
                self.con.execute(f"ALTER TABLE {target} ALTER COLUMN {quote(col.name)} TYPE {DIALECT.type_of(col)}")
            else:
                self.con.execute(f"ALTER TABLE {target} ADD COLUMN {quote(col.name)} {DIALECT.type_of(col)}")

    # -- a load: one transaction of DDL, rows (straight into the table), ledger and history rows ------------
    @contextmanager
    def _loading(self, request: LoadRequest) -> Iterator[None]:
        """The load's one transaction; any error as LoadError, its staged paths told as the landing files."""
        try:
            with self._transaction():
                yield
        except Exception as error:  # DuckDB's, Arrow's, the disk's: all rolled back, told as a LoadError of its kind
            raise load_error(error, request.files) from error
        finally:
            # After COMMIT or ROLLBACK (in an aborted transaction it would fail and hide the error); it fails on a
            # database an error invalidated, and that error is the one to tell.
            with suppress(duckdb.Error):
                self.inserts.reset()

    def _staging_table(self, request: LoadRequest) -> None:
        """None: the rows go straight into the table, unseen until the load's transaction commits (this process
        alone writes to the file, so the ledger the engine read stays true until then)."""
        return None

    def _stage_rows(self, request: LoadRequest, dataset: str, table: str) -> list[str]:
        """Insert the staged files: NDJSON through DuckDB's JSON reader, Arrow IPC through Arrow scans."""
        target = DIALECT.table(dataset, table)
        ndjson = [f for f in request.files if f.path.suffix != ARROW_SUFFIX]
        if ndjson:
            widest = max(f.widest for f in ndjson)
            self.inserts.ndjson(target, storable(request.schema), [f.path for f in ndjson], widest)
        arrow = [f.path for f in request.files if f.path.suffix == ARROW_SUFFIX]
        if arrow:
            self.inserts.arrow(target, request.schema, arrow)
        return []

    def _stage_entries(self, request: LoadRequest) -> str:
        """The ledger entries as an Arrow relation, registered in the load's transaction (the publish removes it,
        and so does a rollback)."""
        import pyarrow as pa

        self.con.register(ENTRIES, pa.Table.from_pylist([f.entry.model_dump() for f in request.files]))
        return quote(ENTRIES)

    def _publish(self, request: LoadRequest, statements: list[str]) -> None:
        """The statements, in the load's transaction (committed as it ends)."""
        for statement in statements:
            self.con.execute(statement)
        self.con.unregister(ENTRIES)

    def append_history(self, dataset: str, rows: list[dict[str, Any]]) -> None:
        """Append history rows (see ingestor.ops.history) in one transaction; LoadError, in one line, if it cannot."""
        columns = list(history_schema().columns.values())
        try:
            with self._transaction():
                self._ensure_history(dataset)
                history = DIALECT.table(dataset, HISTORY_TABLE)
                names = ", ".join(quote(c.name) for c in columns)
                select = ", ".join(f"CAST({quote(c.name)} AS {DIALECT.type_of(c)})" for c in columns)
                complete = [{c.name: row.get(c.name) for c in columns} for row in rows]  # a missing key is NULL
                if 0 < len(rows) <= FEW_ROWS:  # bound as values: scanning Arrow makes DuckDB import pyarrow.dataset
                    one = f"({', '.join('?' for _ in columns)})"
                    values = f"(VALUES {', '.join(one for _ in rows)}) AS v({names})"
                    bound = [value for row in complete for value in row.values()]
                    self.con.execute(f"INSERT INTO {history} ({names}) SELECT {select} FROM {values}", bound)  # noqa: S608
                else:
                    with scannable(self.con, complete) as scan:
                        self.con.execute(f"INSERT INTO {history} ({names}) SELECT {select} FROM {scan}")  # noqa: S608
        except duckdb.Error as error:
            raise WarehouseUnavailable(said(error)) from error

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT; ROLLBACK on any exception, a stop (SIGTERM, Ctrl-C) included, so the connection
        serves on (e.g. for the stopped run's history)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
            self._commit()
        except BaseException:
            # A failed COMMIT (a full disk) leaves no transaction to roll back, and an invalidated database
            # rolls back nothing: the first error is the one to tell.
            with suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            self._current_histories.clear()  # a history column it added is undone too
            raise
        finally:
            self._names = None

    def _commit(self) -> None:
        """COMMIT. DuckDB may fail once the commit is durable (the checkpoint after it, on a full disk): then the
        transaction did commit, so no error goes up; the database is invalidated, and the next statement fails
        quoting this error."""
        try:
            self.con.execute("COMMIT")
        except duckdb.FatalException as error:
            if _DURABLE not in str(error):
                raise
            log.error("%s: the commit is durable, then DuckDB failed: %s", self.path, said(error))

    def close(self) -> None:
        """Close the connection (and the file lock)."""
        self.con.close()

    # -- rebuild (see ingestor.warehouse.rebuild) -------------------------------------------------------
    keeps_columns = False  # a rebuild replaces the table: its columns follow the data

    ledger_entries = reads.ledger_entries  # a data type's ledger entries
    source_counts = reads.source_counts  # the table's rows per source file value

    def rebuild(self, request: RebuildRequest) -> int:
        """Replace the table and its ledger entries in one transaction; the rows it holds now. Raises LoadError."""
        from ingestor.warehouse.duckdb.rebuild import replace

        try:
            return replace(self, request)
        except Exception as error:  # as a load's: all rolled back
            raise load_error(error, request.files) from error
        finally:
            with suppress(duckdb.Error):
                self.inserts.reset()


def load_error(error: Exception, files: list[StagedFile]) -> LoadError:
    """A load's error as the LoadError of its kind, its staged paths told as the landing files."""
    message = unstaged(said(error), files)
    if isinstance(error, duckdb.OutOfMemoryException):
        return TooLarge(message)
    return RowsRefused(message) if isinstance(error, DATA_ERRORS) else WarehouseUnavailable(message)


def said(error: Exception) -> str:
    """DuckDB's message in one line: its first, and the original error of a database an earlier fatal error
    (e.g. a full disk during a checkpoint) invalidated, which its later messages only quote below."""
    lines = str(error).splitlines() or [type(error).__name__]
    original = next((line for line in lines[1:] if line.startswith("Original error:")), None)
    return f"{lines[0]} {original}" if original else lines[0]
