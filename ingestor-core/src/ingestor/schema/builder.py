"""Inference: `SchemaBuilder` conforms records to a schema that grows as records arrive."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ingestor.names import sanitize_column
from ingestor.schema.policy import VARIANT_SUFFIX, Conflict, check_shape, kind_for, stored_as_json, turns_json, widen
from ingestor.schema.types import ACCEPTS, INT64_MAX, INT64_MIN, Column, Declared, Kind, Struct
from ingestor.schema.values import PARSERS, as_text, value_kind


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
        accepts = ACCEPTS[col.kind]
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
            found = value_kind(value)
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
        found = value_kind(value)
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
        if repeated != col.repeated and col.implied and col.kind is kind is Kind.STRUCT:
            self._mutating()
            col.set_type(Kind.STRUCT, repeated, col.fields)  # hints like "readings.time" also fit arrays
        check_shape(col, repeated)
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
        else:
            if kind_for(col, kind, nested=bool(prefix)) is not col.kind:
                self._mutating()
                widen(col)
            fitted = list(items)
        return fitted if repeated else fitted[0]

    def _conflict(
        self, col: Column, struct: Struct, found: tuple[Kind, bool], value: Any, prefix: str, why: str
    ) -> tuple[str, Any]:
        self._mutating()
        path = prefix + col.name
        if turns_json(col):
            stored_as_json(col, path, why, self.notes)
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
