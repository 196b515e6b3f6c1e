"""The type policy: what a column becomes when values of another type meet it. Inference
(`SchemaBuilder`) and the merge of the schemas staging workers grew (`merge`) both decide by it.

- an array and a single value conflict;
- INT64 widens to FLOAT64 (a FLOAT64 column takes integers), except a nested INT64 column the table
  already has (nested fields are not widened: the conflicting values go to a variant column), and a
  lossy widening: an integer beyond 2^53 and a FLOAT64 never share a column (`Lossy`);
- any other pair of kinds is a conflict: a column new in this load and not declared turns into JSON
  (so no value is lost), with a note saying why; a column the table has, or a declared one, keeps its type;
- a column of a type the engine does not write (`Column.native`) takes what that type holds as it is.
"""

from __future__ import annotations

from ingestor.errors import IngestorError
from ingestor.names import suffixed
from ingestor.schema.types import Column, Kind

VARIANT_SUFFIX = "__v_json"  # the sibling JSON column that takes what does not fit a kept column


class Conflict(IngestorError, ValueError):
    """A value does not fit its column (the message says why)."""


class Lossy(Conflict):
    """A value that would change, or change the column's values, if the column took it: an integer beyond
    2^53 meeting a FLOAT64 column, a float meeting an INT64 column holding such integers. The column keeps
    its type even when new in this load; the value goes to its variant."""


def variant_name(name: str) -> str:
    """The variant column of a column: `<name>__v_json`, within the name's length limit."""
    return suffixed(name, VARIANT_SUFFIX)


def check_shape(col: Column, repeated: bool) -> None:
    """Conflict when an array meets a single-value column, or a single value an array column."""
    if repeated != col.repeated:
        raise Conflict("array vs single value")


def kind_for(col: Column, kind: Kind, nested: bool) -> Kind:
    """The kind `col` takes to hold values of `kind`: its own (a JSON column takes anything), or FLOAT64
    when an INT64 column meets FLOAT64 values. Conflict otherwise; `nested`: the column is a struct's field.
    (Whether a column the table has holds integers beyond 2^53 is asked before: `col.large_ints`.)"""
    if col.kind is kind or col.kind is Kind.JSON or (col.kind is Kind.FLOAT64 and kind is Kind.INT64):
        return col.kind
    if col.kind is Kind.INT64 and kind is Kind.FLOAT64:
        if col.stored and nested:
            raise Conflict("FLOAT64 in a nested INT64 column of the table")
        if col.large_ints:
            raise Lossy("FLOAT64 would change the integers beyond 2^53 it holds")
        return Kind.FLOAT64
    raise Conflict(f"{kind.value} vs {col.kind.value}")


def widen(col: Column) -> None:
    """INT64 -> FLOAT64; a column the table has keeps its stored kind (the table needs a WidenColumn)."""
    if col.stored and col.stored_kind is None:
        col.stored_kind = Kind.INT64
    col.set_type(Kind.FLOAT64, col.repeated)


def turns_json(col: Column) -> bool:
    """Whether a conflict turns `col` into JSON: only a column new in this load and not declared."""
    return not col.stored and not col.pinned


def stored_as_json(col: Column, path: str, why: str, notes: list[str]) -> None:
    """Turn `col` (at `path`) into JSON after a conflict, noting why."""
    notes.append(f"{path}: conflicting types ({why}); stored as JSON")
    col.set_type(Kind.JSON)
