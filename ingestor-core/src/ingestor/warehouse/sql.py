"""The skeleton both warehouses share: a SQL dialect (quoting, the type map both ways, parameters)
and `SQLWarehouse`, which reads schemas, the ledger and the history and writes views and the
ledger/history tables the same way in every backend, through a few hooks each backend fills in.

SQL text is built only from identifiers the dialect validated and quoted (the `noqa: S608`
marks); every value travels as a query parameter."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from ingestor.history import HISTORY_TABLE, history_schema
from ingestor.ledger import LEDGER_TABLE, LedgerEntry, ledger_schema
from ingestor.names import validate_identifier
from ingestor.schema import Column, Kind, Struct, mark_stored
from ingestor.warehouse import LoadRequest, ViewSources


@dataclass(frozen=True)
class Dialect:
    """How a warehouse spells SQL: quoted identifiers, column types (both ways) and parameters."""

    quote: Callable[[str], str]  # a validated identifier, quoted
    types: Mapping[Kind, str]  # kind -> the SQL type of a column, and back
    aliases: Mapping[str, Kind]  # other names of those types -> their kind (any other type is a `Native` one)
    struct: str  # a STRUCT type, formatted from its `name TYPE, ...` fields, e.g. "STRUCT({})"
    array: str  # an array type, formatted from its element type, e.g. "{}[]"
    parameter: str  # a named query parameter, formatted from its name, e.g. "${}"
    safe_cast: str  # a cast that gives NULL where the value does not convert, formatted from value and type
    items: str  # a FROM item of an array column's items, named `_item`, formatted from the array, e.g. "UNNEST({})"
    row_hash: str  # a hash of a row (its table's alias), formatted from the alias, e.g. "hash({})"

    def table(self, dataset: str, table: str) -> str:
        """`dataset.table`, quoted."""
        return f"{self.quote(dataset)}.{self.quote(table)}"

    def type_of(self, col: Column) -> str:
        """The SQL type of a column, e.g. `STRUCT("a" BIGINT)[]` or `ARRAY<STRUCT<`a` INT64>>`."""
        if col.native is not None:
            inner = col.native.name  # the table's own type, as it spells it
        elif col.kind is Kind.STRUCT:
            assert col.fields is not None
            inner = self.struct.format(self.definition(storable(col.fields)))
        else:
            inner = self.types[col.kind]
        return self.array.format(inner) if col.repeated else inner

    def kind_of(self, stored: str) -> Kind | None:
        """The kind of a stored type's name (as the backend reports it, in any case); None for a type the
        engine does not write (the backend reads it as a `Native` type)."""
        return self._kinds.get(stored.upper())

    @cached_property
    def _kinds(self) -> dict[str, Kind]:
        names = {name: kind for kind, name in self.types.items()} | dict(self.aliases)
        return {name.upper(): kind for name, kind in names.items()}

    def definition(self, columns: Iterable[Column]) -> str:
        """`name TYPE, ...` of columns (a CREATE TABLE or a STRUCT type)."""
        return ", ".join(f"{self.quote(c.name)} {self.type_of(c)}" for c in columns)

    def day_of(self, column: Column) -> str | None:
        """The date of a column's value: a DATE as is, a TIMESTAMP's UTC date (both sessions are in UTC), a
        STRING's leading `YYYY-MM-DD` (NULL where it is not one); None for other kinds."""
        name = self.quote(column.name)
        if column.kind is Kind.DATE:
            return name
        if column.kind is Kind.TIMESTAMP:
            return f"CAST({name} AS DATE)"
        if column.kind is Kind.STRING:
            return self.safe_cast.format(f"SUBSTR({name}, 1, 10)", "DATE")
        return None

    def view_select(self, columns: list[str], sources: ViewSources) -> str:
        """The SELECT of a view: UNION ALL of each source's columns, constants (validated identifiers,
        so safe as literals) or NULL."""
        selects = []
        for source_dataset, source_table, mapping, constants in sources:
            parts = []
            for column in columns:
                if column in mapping:
                    parts.append(f"{self.quote(mapping[column])} AS {self.quote(column)}")
                elif column in constants:
                    parts.append(f"'{validate_identifier(constants[column])}' AS {self.quote(column)}")
                else:
                    parts.append(f"NULL AS {self.quote(column)}")
            selects.append(f"SELECT {', '.join(parts)} FROM {self.table(source_dataset, source_table)}")  # noqa: S608
        return " UNION ALL ".join(selects)

    def latest_select(self, dataset: str, table: str, key: list[str], newest: list[str]) -> str:
        """The SELECT of a latest view: of the rows of each `key` (column names; `a.b` is field `b` of the
        STRUCT column `a`), the first by the `newest` columns descending, then by a hash of the whole row
        (so that rows alike in all of those give the same row every time; the row's text sorted 5 to 10
        times slower on DuckDB)."""
        row = self.quote("_row")

        def path(name: str) -> str:
            return ".".join([row, *(self.quote(part) for part in name.split("."))])

        partition = ", ".join(path(name) for name in key)
        order = ", ".join([*(f"{path(name)} DESC" for name in newest), f"{self.row_hash.format(row)} DESC"])
        return (
            f"SELECT * FROM {self.table(dataset, table)} AS {row} WHERE TRUE "  # noqa: S608
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {order}) = 1"
        )


def storable(struct: Struct) -> list[Column]:
    """Columns a table can hold (a STRUCT with no field yet cannot be created)."""
    return [c for c in struct.columns.values() if c.kind is not Kind.STRUCT or (c.fields and storable(c.fields))]


def touched(request: LoadRequest) -> list[tuple[Column, bool]]:
    """The top-level columns the request's changes reach, in schema order, each with whether the change
    is inside it (a nested field added) rather than the column itself (added or widened)."""
    top = {change.path[0].lower() for change in request.changes if len(change.path) == 1}
    inside = {change.path[0].lower() for change in request.changes if len(change.path) > 1}
    return [(c, c.name.lower() in inside) for c in storable(request.schema) if c.name.lower() in top | inside]


class SQLWarehouse(ABC):
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

    # -- shared steps ------------------------------------------------------------------------------------
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
        q = self.dialect.quote
        before = self.dialect.parameter.format("before")
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
        """The history table of `dataset` (and the dataset), created if missing."""
        self._ensure_dataset(dataset)
        self._ensure_table(dataset, HISTORY_TABLE, history_schema())

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
