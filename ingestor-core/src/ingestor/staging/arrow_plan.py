"""The columnar path's plan: the schema built so far, as the explicit Arrow schema a landing file is
parsed against (`plan_for`), and the checks that a file staged against a plan is still what the row
path would stage against the schema of its turn (`fits`) and loads into the final table (`loads`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ingestor.landing import Content
from ingestor.names import sanitize_column
from ingestor.schema import PARSERS, Column, Kind, Struct
from ingestor.staging.reader import MAX_DEPTH

_ARROW_TYPES = {
    Kind.STRING: pa.string(),
    Kind.INT64: pa.int64(),
    Kind.FLOAT64: pa.float64(),
    Kind.BOOL: pa.bool_(),
    Kind.TIMESTAMP: pa.string(),  # parsed (`_timestamps` or the row path's function), cast by the warehouse
    Kind.DATE: pa.string(),
}


@dataclass(frozen=True)
class Field:
    """A column as Arrow reads it (a snapshot: the live schema may change meanwhile)."""

    name: str
    kind: Kind
    repeated: bool
    level: Level | None = None  # a STRUCT's fields
    large_ints: bool = False  # an INT64 column that holds integers beyond 2^53 already (and never widens)


@dataclass(frozen=True)
class Level:
    """One struct of the schema: raw JSON key -> field, and every name already taken."""

    fields: dict[str, Field]
    bound: frozenset[str]  # raw keys the schema has seen (any column, also JSON ones)
    names: frozenset[str]  # lower-cased column names


@dataclass(frozen=True)
class Plan:
    """The explicit Arrow schema of a data type's records, and how to read the result back."""

    root: Level
    schema: pa.Schema


@dataclass
class Columnar:
    """A file staged here: its rows, and what must still hold when the load happens."""

    rows: int
    path: Path  # the Arrow IPC file
    plan: Plan
    dropped: list[tuple[str, ...]] = field(default_factory=list)  # keys holding only {} or []
    checksum: str = ""  # of the landing file's content, as it was read


@dataclass(frozen=True)
class HandedBack:
    """Why the row path must take a file, with the file's `content` once it was read (`columnar.stage`): the row
    path reads that, not the landing file again."""

    why: str
    content: Content | None = None


def plan_for(schema: Struct, metadata: set[str]) -> Plan | None:
    """The plan for the schema as it is now; None when it is too deep to take shortcuts."""
    root = _level(schema, exclude=frozenset(metadata), top=True)
    if _depth(root) >= MAX_DEPTH - 1:
        return None
    return Plan(root, pa.schema(_arrow_fields(root)))


def _level(struct: Struct, exclude: frozenset[str] = frozenset(), top: bool = False) -> Level:
    keys: dict[int, list[str]] = {}
    for key, col in struct.bound.items():
        keys.setdefault(id(col), []).append(key)
    fields: dict[str, Field] = {}
    for col in struct.columns.values():
        raw = keys.get(id(col), [col.name])
        if len(raw) != 1 or col.name in exclude or not _plain(col, top):
            continue  # its key, if present and not null, hands the file back
        level = _level(col.fields) if col.kind is Kind.STRUCT and col.fields is not None else None
        fields[raw[0]] = Field(col.name, col.kind, col.repeated, level, bool(col.large_ints))
    return Level(fields, frozenset(struct.bound), frozenset(struct.columns))


def _plain(col: Column, top: bool) -> bool:
    """Whether Arrow can read the column as the row path stages it (not a type the engine does not write,
    whose values the row path checks one by one)."""
    if col.kind is Kind.JSON or col.implied or col.native is not None:
        return False
    if col.kind in PARSERS:
        return top and not col.repeated
    return True


def _depth(level: Level) -> int:
    return 1 + max((_depth(f.level) for f in level.fields.values() if f.level is not None), default=0)


def _arrow_fields(level: Level) -> list[pa.Field]:
    return [pa.field(key, _arrow_type(f)) for key, f in level.fields.items()]


def _arrow_type(f: Field) -> pa.DataType:
    inner = pa.struct(_arrow_fields(f.level)) if f.level is not None else _ARROW_TYPES[f.kind]
    return pa.list_(inner) if f.repeated else inner


def fits(staged: Columnar, schema: Struct) -> bool:
    """Whether a file staged against `staged.plan` is staged as the row path stages it against
    `schema` (the schema at the file's turn): every column it holds has the same type there (or
    INT64 became FLOAT64), and no key it dropped names a column there."""
    return loads(staged, schema) and all(_resolve(schema, path) is None for path in staged.dropped)


def loads(staged: Columnar, schema: Struct) -> bool:
    """Whether the staged columns load into a table of `schema` as the row path's would: each
    column's type is unchanged or widened (a column that became JSON, say, is not)."""
    return _fits(staged.plan.root, schema)


def _fits(level: Level, struct: Struct) -> bool:
    for f in level.fields.values():
        col = struct.get(f.name)
        if col is None or col.repeated != f.repeated:
            return False
        if col.kind is not f.kind and not (f.kind is Kind.INT64 and col.kind is Kind.FLOAT64):
            return False
        if f.level is not None and (col.fields is None or not _fits(f.level, col.fields)):
            return False
    return True


def _resolve(struct: Struct, path: tuple[str, ...]) -> Column | None:
    """The column a raw key path leads to now, if any."""
    for depth, key in enumerate(path, start=1):
        col = struct.bound.get(key) or struct.get(sanitize_column(key))
        if col is None or depth == len(path) or col.fields is None:
            return col
        struct = col.fields
    return None
