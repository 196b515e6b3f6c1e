"""Column types: a column (or struct field), a struct of columns, and declared columns (the kinds: `kinds`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingestor.schema.kinds import FLOAT_EXACT, INT64_MAX, INT64_MIN, Kind
from ingestor.schema.native import Native

__all__ = ["ACCEPTS", "FLOAT_EXACT", "INT64_MAX", "INT64_MIN", "Column", "Declared", "Kind", "Struct"]

ACCEPTS: dict[Kind, frozenset[type]] = {
    Kind.STRING: frozenset({str}),
    Kind.INT64: frozenset({int}),
    Kind.FLOAT64: frozenset({float, int}),
    Kind.BOOL: frozenset({bool}),
    Kind.STRUCT: frozenset({dict}),
    Kind.TIMESTAMP: frozenset(),  # always parsed, on the slow path
    Kind.DATE: frozenset(),
}


@dataclass(slots=True)
class Column:
    """One column (or struct field): its warehouse name, type and whether the table has it.

    `accepts` (derived) lists the Python types stored as they are, None meaning any value
    (JSON); other values take the slow path (always, for a `native` type). Change the type with
    `set_type` only."""

    name: str
    kind: Kind
    repeated: bool = False
    fields: Struct | None = None
    stored: bool = False
    stored_kind: Kind | None = None
    pinned: bool = False  # declared by a schema hint: its type never changes to JSON
    implied: bool = False  # a STRUCT made only to hold hinted fields: may turn out to be an array
    native: Native | None = None  # the table's own type, when the engine does not write it (never altered)
    # Whether an INT64 column holds an integer beyond FLOAT_EXACT (then it never widens to FLOAT64). None: not
    # known, which for a column the table has means not asked yet (`SchemaBuilder`'s probe), else none.
    large_ints: bool | None = None
    accepts: frozenset[type] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.set_type(self.kind, self.repeated, self.fields)

    def set_type(self, kind: Kind, repeated: bool = False, fields: Struct | None = None) -> None:
        """Change the column's type."""
        self.kind, self.repeated, self.fields = kind, repeated, fields
        if self.native is not None:
            self.accepts = frozenset()
        else:
            self.accepts = None if kind is Kind.JSON else frozenset({list}) if repeated else ACCEPTS[kind]

    def type_name(self) -> str:
        """A readable type, e.g. `STRUCT<a INT64>` or `ARRAY<STRING>`."""
        inner = self.kind.value if self.native is None else self.native.name
        if self.kind is Kind.STRUCT and self.fields is not None:
            inner = "STRUCT<" + ", ".join(f"{c.name} {c.type_name()}" for c in self.fields.columns.values()) + ">"
        return f"ARRAY<{inner}>" if self.repeated else inner


@dataclass(slots=True)
class Struct:
    """An ordered set of columns, looked up case-insensitively."""

    columns: dict[str, Column] = field(default_factory=dict)
    bound: dict[str, Column] = field(default_factory=dict)  # raw JSON key -> its column (a cache)
    aliased: bool = False  # two raw keys share a column (they differ by case): check collisions

    def add(self, column: Column) -> Column:
        """Add a column (its name must be free, ignoring case)."""
        self.columns[column.name.lower()] = column
        return column

    def get(self, name: str) -> Column | None:
        """The column called `name`, ignoring case."""
        return self.columns.get(name.lower())


@dataclass(frozen=True)
class Declared:
    """A column a data type declares (see `DataType.columns`): the table has it from the first
    load, with this type, even while every value is null or absent. A STRUCT lists its fields."""

    name: str
    """The column's (or field's) name."""
    kind: Kind
    """Its type."""
    repeated: bool = False
    """An array of `kind` (not for JSON, which holds arrays itself)."""
    fields: tuple[Declared, ...] = ()
    """A STRUCT's fields (and only a STRUCT's)."""

    def __post_init__(self) -> None:
        if (self.kind is Kind.STRUCT) != bool(self.fields):
            raise ValueError(f"declared column {self.name}: a STRUCT, and only a STRUCT, has fields")
        if self.repeated and self.kind is Kind.JSON:
            raise ValueError(f"declared column {self.name}: a JSON column holds arrays itself")

    def column(self) -> Column:
        """The column, pinned to its declared type."""
        fields = Struct() if self.kind is Kind.STRUCT else None
        for item in self.fields:
            fields.add(item.column())  # type: ignore[union-attr]
        return Column(self.name, self.kind, repeated=self.repeated, fields=fields, pinned=True)
