"""A warehouse's SQL dialect: quoting validated identifiers, its type map both ways, the views' SELECT.

SQL text is built only from identifiers the dialect validated and quoted; every value travels as a query
parameter."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from ingestor.names import validate_identifier
from ingestor.schema import Column, Kind, Struct
from ingestor.warehouse import ViewSources


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
