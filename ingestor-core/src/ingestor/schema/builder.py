"""Inference: `SchemaBuilder` conforms records to a schema that grows as records arrive."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from ingestor.names import sanitize_column
from ingestor.schema.declare import apply_hint, declare
from ingestor.schema.native import takes
from ingestor.schema.placing import TAKEN, Placing
from ingestor.schema.policy import (
    Conflict,
    Lossy,
    check_shape,
    kind_for,
    stored_as_json,
    turns_json,
    variant_name,
    widen,
)
from ingestor.schema.types import ACCEPTS, FLOAT_EXACT, INT64_MAX, INT64_MIN, Column, Declared, Kind, Struct
from ingestor.schema.values import PARSERS, as_text, beyond_float, value_kind

# Asked of the table (through the warehouse) before a column it has widens: whether that INT64 column holds an
# integer beyond 2^53, which FLOAT64 would change.
Probe = Callable[[str], bool]


def _new_column(name: str, found: tuple[Kind, bool]) -> Column:
    kind, repeated = found
    return Column(name, kind, repeated=repeated, fields=Struct() if kind is Kind.STRUCT else None)


class SchemaBuilder:
    """Conforms records to a schema that grows as records arrive.

    Start from the table's columns (marked stored) and the data type's hints; call
    `conform` for each record; `begin_file`/`discard_file` make a rejected file leave
    no trace; `changes` lists what the table needs before the load. `probe` answers, for a column
    the table has, whether it holds integers beyond 2^53 (without it, as in a staging worker, such a
    column widens and the merge into the batch's schema asks).
    """

    def __init__(
        self,
        table: Struct | None = None,
        hints: dict[str, Kind] | None = None,
        declared: Iterable[Declared] = (),
        probe: Probe | None = None,
    ) -> None:
        self.root = table if table is not None else Struct()
        self.probe = probe
        self.notes: list[str] = []
        for column in declared:
            declare(self.root, column, self.notes)
        for path, kind in (hints or {}).items():
            apply_hint(self.root, path.split("."), kind, self.notes)
        self._saved: Struct | None = None
        self._notes_mark = 0
        self.version = 0  # changes whenever the schema does
        self.json_turns = 0  # columns that became JSON: rows staged before hold conformed, not source, values

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
    def conform(self, record: dict[str, Any], reserved: Iterable[str] = ()) -> dict[str, Any]:
        """The record with warehouse column names and normalized values; grows the schema. `reserved`: the
        top-level columns the caller fills (the row's metadata): the row has them, None until the caller
        fills them, and a key of the record naming one goes to `<key>__2`, as a second spelling does."""
        row: dict[str, Any] = {}
        for name in reserved:
            if (col := self.root.get(name)) is not None:
                row[col.name] = None
        return self._object(record, self.root, "", row)

    def _object(
        self, obj: dict[str, Any], struct: Struct, prefix: str, out: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """An object conformed to `struct` (into `out`): each key in exactly one column (see `_slow`)."""
        out = {} if out is None else out
        careful = struct.aliased or bool(out)  # may a key meet a column another key took? (checked if so)
        slowed = False
        bound = struct.bound
        for key, value in obj.items():
            if value is None:
                continue  # stored as nothing, whatever the column
            col = bound.get(key)
            if col is None:
                col = struct.get(sanitize_column(key))
                if col is None:
                    if value != [] and value != {}:  # null, {} and [] carry no type: no column
                        self._slow(struct, key, value, None, Placing(obj, out), prefix)
                        careful = slowed = True
                    continue
                bound[key] = col  # a key that differs from the column name (case, characters)
                struct.aliased = careful = True
            if col.implied or (careful and col.name in out):
                self._slow(struct, key, value, col, Placing(obj, out), prefix)  # both spellings, ...
                careful = slowed = True
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
                elif (
                    vtype is not int
                    or -FLOAT_EXACT <= value <= FLOAT_EXACT
                    or (col.large_ints and INT64_MIN <= value <= INT64_MAX)
                ):
                    out[col.name] = value
                    continue
            self._slow(struct, key, value, col, Placing(obj, out), prefix)
            careful = slowed = True  # this key may have gone to another column: check the next ones
        if slowed and TAKEN in out.values():
            return {name: value for name, value in out.items() if value is not TAKEN}
        return out

    def _items(self, col: Column, value: list[Any], prefix: str) -> list[Any] | None:
        """An array that fits its repeated column as it is (None: take the slow path)."""
        if col.kind is Kind.STRUCT:
            if all(type(item) is dict for item in value):
                fields, path = col.fields, f"{prefix}{col.name}."
                return [self._object(item, fields, path) for item in value]  # type: ignore[arg-type]
            return None
        if col.kind is Kind.FLOAT64 and all(type(item) is float for item in value):
            return value
        if all(type(item) in ACCEPTS[col.kind] for item in value):
            numbers = col.kind in (Kind.INT64, Kind.FLOAT64) and value
            if numbers and (min(value) < -FLOAT_EXACT or max(value) > FLOAT_EXACT):
                return None  # integers beyond 2^53 (or beyond INT64): the slow path decides
            return value
        return None

    def _slow(self, struct: Struct, key: str, value: Any, col: Column | None, row: Placing, prefix: str) -> None:
        """A new column, a value that needs work, or a column another key of this object took (another
        spelling of it, the row's metadata): then the key goes to `<key>__2` (`__3`, ...)."""
        name = None
        if col is not None and col.name in row.out:
            name = row.free_name(struct, sanitize_column(key))
            col = struct.get(name)
        if col is None:
            found = value_kind(value)
            if found is None:
                return
            self._mutating()
            col = struct.add(_new_column(name or sanitize_column(key), found))
            if name is None:
                struct.bound[key] = col
        self._put(col, struct, value, row, prefix)

    def _put(self, col: Column, struct: Struct, value: Any, row: Placing, prefix: str) -> None:
        """Store `value` in `col`, or where the policy sends it (`_conflict`)."""
        found = value_kind(value)
        if found is None:
            return
        try:
            fitted = self._fit(col, found, value, prefix)
        except Conflict as conflict:
            self._conflict(col, struct, value, row, prefix, conflict)
            return
        if not (type(fitted) is dict and not fitted and col.kind is Kind.STRUCT):
            row.out[col.name] = fitted

    def _fit(self, col: Column, found: tuple[Kind, bool], value: Any, prefix: str) -> Any:
        """`value` as `col` stores it, widening `col` where the policy allows; Conflict when it does not fit."""
        kind, repeated = found
        if col.native is not None:
            if takes(col.native, value, col.repeated):
                return value
            raise Conflict("a value it does not hold exactly")
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
        items = value if repeated else [value]
        if kind is Kind.INT64 and any(beyond_float(item) for item in items):
            if col.kind is Kind.FLOAT64:
                raise Lossy("FLOAT64 would change an integer beyond 2^53")
            if col.kind is Kind.INT64 and not col.large_ints:
                self._mutating()
                col.large_ints = True
        if col.kind is kind and kind is not Kind.STRUCT:
            return value
        fitted: list[Any]
        if col.kind is Kind.STRUCT and kind is Kind.STRUCT and col.fields is not None:
            fitted = [self._object(item, col.fields, prefix + col.name + ".") for item in items]
        elif col.kind in PARSERS and kind is Kind.STRING:
            try:
                fitted = [PARSERS[col.kind](item) for item in items]
            except ValueError as error:
                raise Conflict(f"not a {col.kind}: {error}") from None
        else:
            if col.kind is Kind.INT64 and kind is Kind.FLOAT64 and col.large_ints is None and col.stored:
                self._ask(col, prefix)
            if kind_for(col, kind, nested=bool(prefix)) is not col.kind:
                self._mutating()
                widen(col)
            fitted = list(items)
        return fitted if repeated else fitted[0]

    def _ask(self, col: Column, prefix: str) -> None:
        """Before a column the table has widens: ask whether it holds integers beyond 2^53 (nested columns
        of the table do not widen; without a probe the merge of this schema asks)."""
        if not prefix and self.probe is not None:
            col.large_ints = self.probe(col.name)

    def _conflict(self, col: Column, struct: Struct, value: Any, row: Placing, prefix: str, conflict: Conflict) -> None:
        """A value that does not fit `col`: a column new in this load turns JSON (unless the conflict is a
        lossy widening); else the value goes to the variant `<name>__v_json`, or on (see `Placing.free`)."""
        path = prefix + col.name
        if turns_json(col) and not isinstance(conflict, Lossy):
            self._mutating()
            stored_as_json(col, path, str(conflict), self.notes)
            self.json_turns += 1
            row.out[col.name] = value
            return
        row.out[col.name] = TAKEN  # the key took its column, its value goes elsewhere
        name = variant_name(col.name)
        if not row.free(struct, name):
            name = row.free_name(struct, name)
        variant = struct.get(name)
        if variant is None:
            self._mutating()
            variant = struct.add(Column(name, Kind.JSON))
        where = "the table's" if col.stored else "the declared" if col.pinned else "the new"
        note = f"{path}: value does not fit {where} {col.type_name()} ({conflict}); stored in {prefix}{variant.name}"
        if note not in self.notes:
            self.notes.append(note)
        self._put(variant, struct, value, row, prefix)
