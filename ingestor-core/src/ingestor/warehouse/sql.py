"""The skeleton both warehouses share: `SQLWarehouse`, which reads schemas, the ledger and the history,
writes views, and loads (prepare, stage, publish) the same way in every backend, through a few hooks each
backend fills in.

SQL text is built only from identifiers the dialect validated and quoted (the `noqa: S608`
marks); every value travels as a query parameter."""

from __future__ import annotations

from abc import abstractmethod
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from ingestor.names import validate_identifier
from ingestor.ops.history import HISTORY_TABLE, history_schema
from ingestor.run import faults
from ingestor.run.ledger import LEDGER_TABLE, LedgerEntry, ledger_schema
from ingestor.schema import Column, Struct, mark_stored
from ingestor.warehouse import LoadReport, LoadRequest, ViewSources, Warehouse
from ingestor.warehouse.dialect import Dialect, storable
from ingestor.warehouse.publish import publication


def touched(request: LoadRequest) -> list[tuple[Column, bool]]:
    """The top-level columns the request's changes reach, in schema order, each with whether the change
    is inside it (a nested field added) rather than the column itself (added or widened)."""
    top = {change.path[0].lower() for change in request.changes if len(change.path) == 1}
    inside = {change.path[0].lower() for change in request.changes if len(change.path) > 1}
    return [(c, c.name.lower() in inside) for c in storable(request.schema) if c.name.lower() in top | inside]


class SQLWarehouse(Warehouse):
    """What every warehouse does alike; a backend supplies its `dialect` and the hooks below."""

    dialect: Dialect

    # -- hooks -------------------------------------------------------------------------------------------
    @abstractmethod
    def _exists(self, dataset: str, table: str) -> bool:
        """Whether the table (or view) exists."""

    @abstractmethod
    def _stored_columns(self, dataset: str, table: str) -> list[Column] | None:
        """The table's columns as the warehouse stores them, or None when it does not exist."""

    @abstractmethod
    def _ledger_rows(self, dataset: str, names: list[str]) -> list[dict[str, Any]]:
        """The rows of `dataset`'s ledger (which exists) about these object names."""

    @abstractmethod
    def _select(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The rows of a query, with named parameters."""

    @abstractmethod
    def _execute(self, sql: str) -> None:
        """Run a statement (DDL)."""

    @abstractmethod
    def _ensure_dataset(self, dataset: str) -> None:
        """Create the dataset if it is missing."""

    @abstractmethod
    def _ensure_table(self, dataset: str, table: str, schema: Struct) -> None:
        """Create a table of our own (ledger, history) if it is missing."""

    @abstractmethod
    def _create_table(self, request: LoadRequest) -> None:
        """Create the request's table with its schema."""

    @abstractmethod
    def _evolve(self, request: LoadRequest) -> None:
        """Apply the request's schema changes to its existing table."""

    def _reading(self) -> AbstractContextManager[None]:
        """Around the reads of the table's schema and the ledger: errors as the engine expects them."""
        return nullcontext()

    @abstractmethod
    def _loading(self, request: LoadRequest) -> AbstractContextManager[None]:
        """Around a whole load: its errors as LoadError, and its end (DuckDB: one transaction; BigQuery: cleanup)."""

    @abstractmethod
    def _staging_table(self, request: LoadRequest) -> str | None:
        """The table of `request.dataset` the rows wait in until the publish; None: the target (see `publication`)."""

    @abstractmethod
    def _stage_rows(self, request: LoadRequest, dataset: str, table: str) -> list[str]:
        """The staged files' rows into `dataset.table` (of the request's columns); the ids of its jobs."""

    @abstractmethod
    def _stage_entries(self, request: LoadRequest) -> str:
        """The batch's ledger entries into a table of the ledger's columns; its name, quoted."""

    @abstractmethod
    def _publish(self, request: LoadRequest, statements: list[str]) -> str | None:
        """Run the statements as one transaction (all or none); the id of the job that did, if any."""

    # -- shared steps ------------------------------------------------------------------------------------
    def load(self, request: LoadRequest) -> LoadReport:
        """Every load in one order: prepare the table (schema changes), stage the rows and ledger entries,
        publish rows + ledger + history rows in one transaction. All or nothing; raises LoadError."""
        job_ids: list[str] = []
        with self._loading(request):
            self._prepare(request)
            if request.files:
                staging = self._staging_table(request)
                job_ids += self._stage_rows(request, request.dataset, staging or request.table)
                entries = self._stage_entries(request)
                faults.checkpoint("before_publish")  # test-only: rows and entries staged, nothing published
                rows = None if staging is None else self.dialect.table(request.dataset, staging)
                statements = publication(self.dialect.quote, request, storable(request.schema), rows, entries)
                job_ids += filter(None, [self._publish(request, statements)])
        return LoadReport(rows=sum(f.entry.rows for f in request.files), job_ids=job_ids)

    def table_schema(self, dataset: str, table: str) -> Struct | None:
        """Columns of `dataset.table` (marked stored), or None."""
        with self._reading():
            columns = self._stored_columns(dataset, table)
        if columns is None:
            return None
        struct = Struct()
        for column in columns:
            struct.add(column)
        return mark_stored(struct)

    def loaded(self, datasets: set[str], names: list[str]) -> dict[str, list[LedgerEntry]]:
        """Ledger rows per object name found in the ledgers of `datasets`."""
        found: dict[str, list[LedgerEntry]] = {}
        if not names:
            return found
        with self._reading():
            for dataset in sorted(datasets):
                if not self._exists(validate_identifier(dataset), LEDGER_TABLE):
                    continue
                for row in self._ledger_rows(dataset, names):
                    entry = LedgerEntry(**row)
                    found.setdefault(entry.source_name, []).append(entry)
        return found

    def _ledger_query(self, dataset: str) -> str:
        """SELECT of the ledger's columns, to which a WHERE clause is appended."""
        selected = ", ".join(self.dialect.quote(f) for f in LedgerEntry.model_fields)
        return f"SELECT {selected} FROM {self.dialect.table(dataset, LEDGER_TABLE)}"  # noqa: S608

    def largest_integer(self, dataset: str, table: str, column: Column) -> int:
        """The largest magnitude among the integers of a top-level INT64 column (of its items when it is an
        array; 0 when it holds none): one MIN/MAX scan of the column."""
        with self._reading():
            source = self.dialect.table(dataset, table)
            values = self.dialect.quote(column.name)
            if column.repeated:
                source = f"{source} AS _row, {self.dialect.items.format('_row.' + values)}"
                values = "_item"
            rows = self._select(f"SELECT MIN({values}) AS low, MAX({values}) AS high FROM {source}", {})  # noqa: S608
        low, high = rows[0]["low"] or 0, rows[0]["high"] or 0
        return max(abs(int(low)), abs(int(high)))

    def read_history(self, dataset: str, query: str, since: datetime) -> list[dict[str, Any]]:
        """Rows of a query over the history table (see `Warehouse.read_history`); none if it is absent."""
        if not self._exists(validate_identifier(dataset), HISTORY_TABLE):
            return []
        sql = query.format(
            history=self.dialect.table(dataset, HISTORY_TABLE),
            since=self.dialect.parameter.format("since"),
            rows=self.dialect.quote("rows"),
        )
        return self._select(sql, {"since": since})

    def days_covered(self, dataset: str, table: str, column: str, since: date) -> dict[date, int]:
        """Records per day of a date column (see `Warehouse.days_covered`); none when the table or column is
        missing or the column holds no dates."""
        with self._reading():
            stored = self._stored_columns(validate_identifier(dataset), validate_identifier(table)) or []
        found = next((c for c in stored if c.name.lower() == column.lower() and not c.repeated), None)
        day = self.dialect.day_of(found) if found else None
        if day is None:
            return {}
        q, before = self.dialect.quote, self.dialect.parameter.format("before")
        sql = (
            f"SELECT GREATEST({q('day')}, {before}) AS {q('day')}, COUNT(*) AS {q('records')} "  # noqa: S608
            f"FROM (SELECT {day} AS {q('day')} FROM {self.dialect.table(dataset, table)}) AS d "
            f"WHERE {q('day')} IS NOT NULL GROUP BY 1"
        )
        with self._reading():
            rows = self._select(sql, {"before": since - timedelta(days=1)})
        return {row["day"]: int(row["records"]) for row in rows}

    def loaded_names(self, dataset: str, service: str, data_type: str) -> dict[str, int]:
        """Rows loaded per object name of a data type, from `dataset`'s ledger; none when it is absent."""
        with self._reading():
            if not self._exists(validate_identifier(dataset), LEDGER_TABLE):
                return {}
            q, p = self.dialect.quote, self.dialect.parameter.format
            sql = (
                f"SELECT source_name, SUM({q('rows')}) AS {q('rows')} FROM {self.dialect.table(dataset, LEDGER_TABLE)} "  # noqa: S608
                f"WHERE service = {p('service')} AND data_type = {p('data_type')} GROUP BY source_name"
            )
            rows = self._select(sql, {"service": service, "data_type": data_type})
        return {row["source_name"]: int(row["rows"] or 0) for row in rows}

    def ensure_view(self, dataset: str, name: str, columns: list[str], sources: ViewSources) -> None:
        """CREATE OR REPLACE VIEW over the sources (all names validated and quoted)."""
        select = self.dialect.view_select(columns, sources)
        self._ensure_dataset(dataset)
        self._execute(f"CREATE OR REPLACE VIEW {self.dialect.table(dataset, name)} AS {select}")

    def ensure_latest_view(
        self, dataset: str, name: str, table: str, key: list[str], newest: list[str], replace: bool
    ) -> bool:
        """The latest view `name` of `table` (see `Dialect.latest_select`): created if missing, or replaced
        (`replace`: its table's columns changed); whether it was written."""
        if not replace and self._exists(dataset, name):
            return False
        select = self.dialect.latest_select(dataset, table, key, newest)
        self._execute(f"CREATE OR REPLACE VIEW {self.dialect.table(dataset, name)} AS {select}")
        return True

    def _ensure_history(self, dataset: str) -> None:
        """The history table of `dataset` (and the dataset), created if missing; one an older version made is
        given the columns added since (`reason_code`), checked once per dataset and process."""
        self._ensure_dataset(dataset)
        self._ensure_table(dataset, HISTORY_TABLE, history_schema())
        if dataset in self._current_histories:
            return
        stored = {c.name.lower() for c in self._stored_columns(dataset, HISTORY_TABLE) or []}
        missing = [col for col in history_schema().columns.values() if col.name.lower() not in stored]
        if missing:
            self._add_columns(dataset, HISTORY_TABLE, missing)
        self._current_histories.add(dataset)

    def _add_columns(self, dataset: str, table: str, columns: list[Column]) -> None:
        """Add top-level columns to a table of our own."""
        target = self.dialect.table(dataset, table)
        for col in columns:
            quoted, kind = self.dialect.quote(col.name), self.dialect.type_of(col)
            self._execute(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {quoted} {kind}")

    @cached_property
    def _current_histories(self) -> set[str]:
        """The datasets whose history table has every column."""
        return set()

    def _prepare(self, request: LoadRequest) -> None:
        """Dataset, ledger (and history) tables, and the target table created or evolved to `request.schema`."""
        self._ensure_dataset(request.dataset)
        self._ensure_table(request.dataset, LEDGER_TABLE, ledger_schema())
        if request.history_dataset:
            self._ensure_history(request.history_dataset)
        if not self._exists(request.dataset, request.table):
            self._create_table(request)
        elif request.changes:
            self._evolve(request)
