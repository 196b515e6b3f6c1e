"""Schemas compared and combined: with the table as it is (`reconcile`, `changes`, `mark_stored`), and with
the schema a staging worker grew (`merge`, under the same type policy as inference)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from ingestor.schema.policy import Conflict, Lossy, check_shape, kind_for, stored_as_json, turns_json, widen
from ingestor.schema.types import Column, Kind, Struct


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


def merge(
    target: Struct, source: Struct, notes: list[str], probe: Callable[[str], bool] | None = None, prefix: str = ""
) -> list[str]:
    """Merge a schema grown elsewhere (a staging worker) into `target`, with the conform rules; `probe` asks
    whether a column the table has holds integers beyond 2^53 before it widens.

    Returns the paths where the rows staged against `source` do not fit `target`: a column spelled otherwise,
    or a widening that would change an integer beyond 2^53 (not done: those rows must be staged again)."""
    unfit: list[str] = []
    for col in source.columns.values():
        path = prefix + col.name
        mine = target.get(col.name)
        if mine is None:
            target.add(copy.deepcopy(col))
            continue
        if mine.name != col.name:
            unfit.append(path)
        if mine.kind is Kind.JSON or mine.native is not None:
            continue
        if mine.kind is col.kind is Kind.STRUCT and mine.repeated == col.repeated:
            if mine.fields and col.fields:
                unfit += merge(mine.fields, col.fields, notes, probe, path + ".")
            continue
        try:
            check_shape(mine, col.repeated)
            if col.large_ints and mine.kind is Kind.FLOAT64:
                raise Lossy("integers beyond 2^53 staged as INT64")
            widens = mine.kind is Kind.INT64 and col.kind is Kind.FLOAT64
            if widens and mine.large_ints is None and mine.stored and not prefix and probe is not None:
                mine.large_ints = probe(mine.name)
            if kind_for(mine, col.kind, nested=bool(prefix)) is not mine.kind:
                widen(mine)
            if col.large_ints:
                mine.large_ints = True
        except Lossy:
            unfit.append(path)
        except Conflict:
            if turns_json(mine):
                stored_as_json(mine, path, f"{col.type_name()} vs {mine.type_name()}", notes)
    return unfit
