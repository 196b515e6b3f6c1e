"""Column types inferred from JSON records, merged across files and with the live table.

Policy (documented in the README):
- objects become STRUCT columns, arrays REPEATED columns; null, {} and [] carry no type
  and create no column (they are stored as NULL); an object with no non-null field is
  stored as a NULL struct (inside arrays it stays an element whose fields are NULL);
- INT64 widens to FLOAT64; a hinted TIMESTAMP/DATE column takes ISO-8601 strings,
  normalized to UTC;
- arrays of arrays, arrays holding nulls and integers beyond 64 bits are stored as JSON;
- a real conflict (string vs object, scalar vs array, ...) on a column that is new in this
  load turns that column into JSON, so no value is lost; a STRING column the table already
  has takes any value as text (`as_text`: its type wins, nothing is lost); on another column
  the table has or a hint declares, the conflicting values go to a sibling JSON column named
  `<name>__v_json`;
- keys are sanitized with `names.sanitize_column`; keys that differ only by case share a
  column (as in BigQuery); when both spellings occur in one object, the later one goes to
  `<name>__<n>`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import orjson

from ingestor.names import sanitize_column

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
VARIANT_SUFFIX = "__v_json"


class Kind(StrEnum):
    """A column type, named as in BigQuery."""

    STRING = "STRING"
    INT64 = "INT64"
    FLOAT64 = "FLOAT64"
    BOOL = "BOOL"
    TIMESTAMP = "TIMESTAMP"
    DATE = "DATE"
    JSON = "JSON"
    STRUCT = "STRUCT"


_SCALAR_KINDS = {str: Kind.STRING, bool: Kind.BOOL, int: Kind.INT64, float: Kind.FLOAT64}


_ACCEPTS: dict[Kind, frozenset[type]] = {
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
    (JSON); other values take the slow path. Change the type with `set_type` only."""

    name: str
    kind: Kind
    repeated: bool = False
    fields: Struct | None = None
    stored: bool = False
    stored_kind: Kind | None = None
    pinned: bool = False  # declared by a schema hint: its type never changes to JSON
    implied: bool = False  # a STRUCT made only to hold hinted fields: may turn out to be an array
    accepts: frozenset[type] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.set_type(self.kind, self.repeated, self.fields)

    def set_type(self, kind: Kind, repeated: bool = False, fields: Struct | None = None) -> None:
        """Change the column's type."""
        self.kind, self.repeated, self.fields = kind, repeated, fields
        self.accepts = None if kind is Kind.JSON else frozenset({list}) if repeated else _ACCEPTS[kind]

    def type_name(self) -> str:
        """A readable type, e.g. `STRUCT<a INT64>` or `ARRAY<STRING>`."""
        inner = self.kind.value
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
    kind: Kind
    repeated: bool = False
    fields: tuple[Declared, ...] = ()

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


@dataclass(frozen=True)
class AddColumn:
    """A column (possibly nested: path has the parents) the table does not have yet."""

    path: tuple[str, ...]
    column: Column

    def __str__(self) -> str:
        return f"{'.'.join(self.path)} {self.column.type_name()}"


@dataclass(frozen=True)
class WidenColumn:
    """A top-level column whose type must widen (INT64 -> FLOAT64)."""

    path: tuple[str, ...]
    column: Column

    def __str__(self) -> str:
        return f"{'.'.join(self.path)} {self.column.stored_kind} -> {self.column.type_name()}"


SchemaChange = AddColumn | WidenColumn


class Conflict(ValueError):
    """Internal signal: a value does not fit its column."""


def as_text(value: Any) -> str:
    """A JSON value as the text a STRING column of an existing table takes (no value is lost)."""
    return value if type(value) is str else orjson.dumps(value).decode()


def inserted_at(moment: datetime, column: Column | None) -> str:
    """The run's start as the inserted-at column takes it: ISO-8601 with its offset; in a STRING
    column of an existing table (the seed system's), naive UTC ISO-8601, as that system wrote it."""
    if column is not None and column.stored and column.kind is Kind.STRING:
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return moment.isoformat()


def parse_timestamp(value: str) -> str:
    """An ISO-8601 string as a UTC timestamp string; naive values are taken as UTC. ValueError (quoting
    the value as given) when it is not one, or is out of range in UTC (`0001-01-01T00:00:00+14:00`)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).isoformat()
    except (ValueError, OverflowError) as error:
        why = "out of range" if isinstance(error, OverflowError) else "invalid"
        raise ValueError(f"{why} timestamp {value!r}") from None


def parse_date(value: str) -> str:
    """An ISO-8601 date string, validated (ValueError quoting the value as given)."""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValueError(f"invalid date {value!r}") from None


PARSERS = {Kind.TIMESTAMP: parse_timestamp, Kind.DATE: parse_date}  # hinted kinds whose strings are parsed


def _value_kind(value: Any) -> tuple[Kind, bool] | None:
    """The (kind, repeated) of a JSON value; None when it carries no type (null, {}, [])."""
    kind = _SCALAR_KINDS.get(type(value))
    if kind is not None:
        if kind is Kind.INT64 and not INT64_MIN <= value <= INT64_MAX:
            return Kind.JSON, False
        return kind, False
    if type(value) is dict:
        return (Kind.STRUCT, False) if value else None
    if type(value) is list:
        element_kind: Kind | None = None
        for item in value:
            if item is None or type(item) is list:
                return Kind.JSON, False
            found = _value_kind(item)
            if found is None:
                continue
            k = found[0]
            if element_kind is None or element_kind is k:
                element_kind = k
            elif {element_kind, k} == {Kind.INT64, Kind.FLOAT64}:
                element_kind = Kind.FLOAT64
            else:
                return Kind.JSON, False
        return (element_kind, True) if element_kind is not None else None
    return None


def _new_column(name: str, found: tuple[Kind, bool]) -> Column:
    kind, repeated = found
    return Column(name, kind, repeated=repeated, fields=Struct() if kind is Kind.STRUCT else None)


def _free_name(base: str, taken: dict[str, Any]) -> str:
    n = 2
    while f"{base}__{n}".lower() in {k.lower() for k in taken}:
        n += 1
    return f"{base}__{n}"


class SchemaBuilder:
    """Conforms records to a schema that grows as records arrive.

    Start from the table's columns (marked stored) and the data type's hints; call
    `conform` for each record; `begin_file`/`discard_file` make a rejected file leave
    no trace; `changes` lists what the table needs before the load.
    """

    def __init__(
        self, table: Struct | None = None, hints: dict[str, Kind] | None = None, declared: Iterable[Declared] = ()
    ) -> None:
        self.root = table if table is not None else Struct()
        self.notes: list[str] = []
        for column in declared:
            self._declare_column(self.root, column, "")
        for path, kind in (hints or {}).items():
            self._declare(path.split("."), kind)
        self._saved: Struct | None = None
        self._notes_mark = 0
        self.version = 0  # changes whenever the schema does
        self.json_turns = 0  # columns that became JSON: rows staged before hold conformed, not source, values

    def _declare(self, path: list[str], kind: Kind) -> None:
        struct = self.root
        for parent in path[:-1]:
            col = struct.get(parent)
            if col is None:
                col = struct.add(Column(parent, Kind.STRUCT, fields=Struct(), implied=True))
            if col.fields is None:
                if col.stored:  # the table made it something else (e.g. JSON after a conflict)
                    self.notes.append(f"schema hint {'.'.join(path)} not applied: the table's {parent} is {col.kind}")
                    return
                raise ValueError(f"schema hint {'.'.join(path)}: {parent} is not a STRUCT")
            struct = col.fields
        existing = struct.get(path[-1])
        if existing is None:
            struct.add(Column(path[-1], kind, pinned=True))
        elif not existing.stored:
            existing.set_type(kind)
            existing.pinned = True

    def _declare_column(self, struct: Struct, declared: Declared, prefix: str) -> None:
        """Add a declared column the table lacks; the table's own columns keep their type (nested
        fields the table lacks are added to its struct)."""
        existing = struct.get(declared.name)
        if existing is None:
            struct.add(declared.column())
        elif existing.fields is not None and declared.fields:
            for item in declared.fields:
                self._declare_column(existing.fields, item, f"{prefix}{declared.name}.")
        elif existing.kind is not declared.kind or existing.repeated != declared.repeated:
            self.notes.append(
                f"{prefix}{declared.name}: the table's {existing.type_name()} is kept "
                f"(declared {declared.column().type_name()})"
            )

    # -- per-file transaction -------------------------------------------------
    def begin_file(self) -> None:
        """Start a file: the next mutation snapshots the schema first."""
        self._saved = None
        self._notes_mark = len(self.notes)

    def discard_file(self) -> None:
        """Forget every schema change made since `begin_file` (the file was rejected)."""
        if self._saved is not None:
            self.root = self._saved
            self.version += 1
        del self.notes[self._notes_mark :]
        self._saved = None

    def _mutating(self) -> None:
        self.version += 1
        if self._saved is None:
            self._saved = copy.deepcopy(self.root)

    # -- conforming ------------------------------------------------------------
    def conform(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record with warehouse column names and normalized values; grows the schema."""
        return self._object(record, self.root, "")

    def _object(self, obj: dict[str, Any], struct: Struct, prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        bound = struct.bound
        for key, value in obj.items():
            if value is None:
                continue  # stored as nothing, whatever the column
            col = bound.get(key)
            if col is None:
                col = struct.get(sanitize_column(key))
                if col is None:
                    if value != [] and value != {}:  # null, {} and [] carry no type: no column
                        self._slow(struct, key, value, out, prefix)
                    continue
                bound[key] = col  # a key that differs from the column name (case, characters)
                struct.aliased = True
            if col.implied or (struct.aliased and col.name in out):
                self._slow(struct, key, value, out, prefix)  # a hinted struct's first value; both spellings
                continue
            accepts = col.accepts
            if accepts is None:
                out[col.name] = value
                continue
            vtype = type(value)
            if vtype in accepts:
                if vtype is dict:
                    if value:
                        inner = self._object(value, col.fields, f"{prefix}{col.name}.")  # type: ignore[arg-type]
                        if inner:
                            out[col.name] = inner
                    continue
                if vtype is list:
                    items = self._items(col, value, prefix)
                    if items is not None:
                        out[col.name] = items
                        continue
                elif vtype is not int or INT64_MIN <= value <= INT64_MAX:
                    out[col.name] = value
                    continue
            self._slow(struct, key, value, out, prefix)
        return out

    def _items(self, col: Column, value: list[Any], prefix: str) -> list[Any] | None:
        """An array that fits its repeated column as it is (None: take the slow path)."""
        if col.kind is Kind.STRUCT:
            if all(type(item) is dict for item in value):
                fields, path = col.fields, f"{prefix}{col.name}."
                return [self._object(item, fields, path) for item in value]  # type: ignore[arg-type]
            return None
        accepts = _ACCEPTS[col.kind]
        if all(type(item) in accepts for item in value):
            if col.kind is Kind.INT64 and value and not (min(value) >= INT64_MIN and max(value) <= INT64_MAX):
                return None
            return value
        return None

    def _slow(self, struct: Struct, key: str, value: Any, out: dict[str, Any], prefix: str) -> None:
        """A new column, a same-name collision, or a value that needs work."""
        col = struct.bound.get(key)
        name = None
        if col is not None and col.name in out:
            # Same column name, other spelling, in this very object: keep both values.
            name = _free_name(sanitize_column(key), out)
            col = struct.get(name)
        if col is None:
            found = _value_kind(value)
            if found is None:
                return
            self._mutating()
            col = struct.add(_new_column(name or sanitize_column(key), found))
            if name is None:
                struct.bound[key] = col
        staged = self._general(col, struct, value, prefix)
        if staged is not None and not (type(staged[1]) is dict and not staged[1] and col.kind is Kind.STRUCT):
            out[staged[0]] = staged[1]

    def _general(self, col: Column, struct: Struct, value: Any, prefix: str) -> tuple[str, Any] | None:
        """Slow path: lists, widening, parsing hinted types, conflicts."""
        found = _value_kind(value)
        if found is None:
            return None
        try:
            return col.name, self._fit(col, found, value, prefix)
        except Conflict as conflict:
            return self._conflict(col, struct, found, value, prefix, str(conflict))

    def _fit(self, col: Column, found: tuple[Kind, bool], value: Any, prefix: str) -> Any:
        kind, repeated = found
        if col.kind is Kind.JSON:
            return value
        if col.kind is Kind.STRING and col.stored and (kind is not Kind.STRING or repeated != col.repeated):
            # The table's STRING column wins: any value converts to text without loss.
            if col.repeated and type(value) is list and None not in value:
                return [as_text(item) for item in value]
            if not col.repeated:
                return as_text(value)
        if repeated != col.repeated:
            if not (col.implied and col.kind is kind is Kind.STRUCT):
                raise Conflict("array vs single value")
            self._mutating()
            col.set_type(Kind.STRUCT, repeated, col.fields)  # hints like "readings.time" also fit arrays
        col.implied = False
        if col.kind is kind and kind is not Kind.STRUCT:
            return value
        items = value if repeated else [value]
        fitted: list[Any]
        if col.kind is Kind.STRUCT and kind is Kind.STRUCT and col.fields is not None:
            fitted = [self._object(item, col.fields, prefix + col.name + ".") for item in items]
        elif col.kind in PARSERS and kind is Kind.STRING:
            try:
                fitted = [PARSERS[col.kind](item) for item in items]
            except ValueError as error:
                raise Conflict(f"not a {col.kind}: {error}") from None
        elif col.kind is kind or (col.kind is Kind.FLOAT64 and kind is Kind.INT64):
            fitted = list(items)
        elif col.kind is Kind.INT64 and kind is Kind.FLOAT64:
            if col.stored and prefix:
                raise Conflict("FLOAT64 in a nested INT64 column of the table")
            self._mutating()
            if col.stored and col.stored_kind is None:
                col.stored_kind = Kind.INT64
            col.set_type(Kind.FLOAT64, col.repeated)
            fitted = list(items)
        else:
            raise Conflict(f"{kind.value} vs {col.kind.value}")
        return fitted if repeated else fitted[0]

    def _conflict(
        self, col: Column, struct: Struct, found: tuple[Kind, bool], value: Any, prefix: str, why: str
    ) -> tuple[str, Any]:
        self._mutating()
        path = prefix + col.name
        if not col.stored and not col.pinned:
            self.notes.append(f"{path}: conflicting types ({why}); stored as JSON")
            col.set_type(Kind.JSON)
            self.json_turns += 1
            return col.name, value
        variant_name = col.name + VARIANT_SUFFIX
        variant = struct.get(variant_name)
        if variant is None:
            variant = struct.add(Column(variant_name, Kind.JSON))
        where = "the table's" if col.stored else "the declared"
        note = f"{path}: value does not fit {where} {col.type_name()} ({why}); stored in {prefix}{variant_name}"
        if note not in self.notes:
            self.notes.append(note)
        return variant.name, value

    # -- comparing with the table ----------------------------------------------


def reconcile(schema: Struct, table: Struct | None) -> Struct:
    """A copy of `schema` whose stored flags say what `table` (as it is now) already has."""
    result = copy.deepcopy(schema)
    _mark(result, table)
    return result


def _mark(struct: Struct, table: Struct | None) -> None:
    for col in struct.columns.values():
        existing = table.get(col.name) if table is not None else None
        col.stored = existing is not None
        col.stored_kind = existing.kind if existing is not None and existing.kind is not col.kind else None
        if col.fields is not None:
            _mark(col.fields, existing.fields if existing is not None else None)


def changes(schema: Struct) -> list[SchemaChange]:
    """What the table needs before a load: new columns (also nested) and widened columns."""
    out: list[SchemaChange] = []
    _collect(schema, (), out)
    return out


def _collect(struct: Struct, parents: tuple[str, ...], out: list[SchemaChange]) -> None:
    for col in struct.columns.values():
        path = (*parents, col.name)
        if not col.stored:
            if col.kind is not Kind.STRUCT or (col.fields is not None and col.fields.columns):
                out.append(AddColumn(path, col))
        elif col.stored_kind is not None and col.stored_kind is not col.kind:
            out.append(WidenColumn(path, col))
        elif col.fields is not None:
            _collect(col.fields, path, out)


def mark_stored(struct: Struct) -> Struct:
    """Mark every column of a schema read from the warehouse as stored."""
    for col in struct.columns.values():
        col.stored = True
        col.stored_kind = None
        if col.fields is not None:
            mark_stored(col.fields)
    return struct


def merge(target: Struct, source: Struct, notes: list[str], prefix: str = "") -> list[str]:
    """Merge a schema grown elsewhere (a staging worker) into `target`, with the conform rules.

    Returns the paths whose spelling differs in `source` (its staged rows use other names)."""
    respelled: list[str] = []
    for col in source.columns.values():
        path = prefix + col.name
        mine = target.get(col.name)
        if mine is None:
            target.add(copy.deepcopy(col))
            continue
        if mine.name != col.name:
            respelled.append(path)
        if mine.kind is Kind.JSON:
            continue
        if col.kind is Kind.JSON or mine.repeated != col.repeated:
            if not mine.stored and not mine.pinned:
                notes.append(f"{path}: conflicting types ({col.type_name()} vs {mine.type_name()}); stored as JSON")
                mine.set_type(Kind.JSON)
            continue
        if mine.kind is Kind.STRUCT and col.kind is Kind.STRUCT and mine.fields and col.fields:
            respelled += merge(mine.fields, col.fields, notes, path + ".")
        elif {mine.kind, col.kind} == {Kind.INT64, Kind.FLOAT64}:
            if mine.kind is Kind.INT64 and mine.stored and mine.stored_kind is None:
                mine.stored_kind = Kind.INT64
            mine.set_type(Kind.FLOAT64, mine.repeated)
        elif mine.kind is not col.kind and not mine.stored and not mine.pinned:
            notes.append(f"{path}: conflicting types ({col.type_name()} vs {mine.type_name()}); stored as JSON")
            mine.set_type(Kind.JSON)
    return respelled
