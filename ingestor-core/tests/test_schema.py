"""Inference, merging and the conflict policy of schema.SchemaBuilder."""

from __future__ import annotations

import pytest

from ingestor.schema import AddColumn, Column, Kind, SchemaBuilder, Struct, WidenColumn, changes, mark_stored, reconcile


def built(*records: dict) -> SchemaBuilder:
    builder = SchemaBuilder()
    for record in records:
        builder.conform(record)
    return builder


def test_infers_structs_lists_and_scalars() -> None:
    b = built({"s": "x", "i": 1, "f": 1.5, "b": True, "o": {"k": 1}, "l": [{"a": 1}, {"b": "x"}], "n": None})
    types = {c.name: c.type_name() for c in b.root.columns.values()}
    assert types == {
        "s": "STRING",
        "i": "INT64",
        "f": "FLOAT64",
        "b": "BOOL",
        "o": "STRUCT<k INT64>",
        "l": "ARRAY<STRUCT<a INT64, b STRING>>",
    }


def test_int_widens_to_float_and_bool_is_not_int() -> None:
    b = built({"x": 1}, {"x": 2.5}, {"y": True}, {"y": 1})
    assert b.root.get("x").kind is Kind.FLOAT64
    assert b.root.get("y").kind is Kind.JSON and b.notes == ["y: conflicting types (INT64 vs BOOL); stored as JSON"]


@pytest.mark.parametrize("values", [[[1, 2], [[1], [2]]], [[1, None]], [[1, "a"]], ["a", {"b": 1}], [1, [1]]])
def test_unrepresentable_or_conflicting_values_become_json(values: list) -> None:
    b = built(*({"v": v} for v in values))
    assert b.root.get("v").kind is Kind.JSON


def test_empty_values_create_no_column() -> None:
    assert built({"a": {}, "b": [], "c": None}).root.columns == {}


def test_conform_keeps_values_and_canonical_names() -> None:
    b = built({"Name": "a"})
    assert b.conform({"name": "b", "x y": 1}) == {"Name": "b", "x_y": 1}


def test_stored_column_conflict_goes_to_variant_and_widening_is_reported() -> None:
    table = Struct()
    table.add(Column("n", Kind.INT64))
    table.add(Column("s", Kind.STRUCT, fields=Struct({"k": Column("k", Kind.INT64)})))
    b = SchemaBuilder(mark_stored(table))
    assert b.conform({"n": 1.5, "s": {"k": "text"}}) == {"n": 1.5, "s": {"k__v_json": "text"}}
    found = changes(b.root)
    assert [str(c) for c in found] == ["n INT64 -> FLOAT64", "s.k__v_json JSON"]
    assert isinstance(found[0], WidenColumn) and isinstance(found[1], AddColumn)


def test_discard_file_restores_the_schema() -> None:
    b = built({"a": 1})
    b.begin_file()
    b.conform({"a": "conflict", "new": 1})
    b.discard_file()
    assert list(b.root.columns) == ["a"] and b.root.get("a").kind is Kind.INT64 and b.notes == []


def test_hints_parse_timestamps_to_utc_and_dates() -> None:
    b = SchemaBuilder(hints={"t": Kind.TIMESTAMP, "d": Kind.DATE, "r.j": Kind.JSON})
    row = b.conform({"t": "2025-01-05T06:12:00.0+02:00", "d": "2025-01-05", "r": {"j": {"any": [1, [2]]}}})
    assert row == {"t": "2025-01-05T04:12:00+00:00", "d": "2025-01-05", "r": {"j": {"any": [1, [2]]}}}
    assert b.conform({"t": "2025-01-05 06:12:00"})["t"] == "2025-01-05T06:12:00+00:00"


def test_reconcile_marks_what_the_table_has() -> None:
    b = built({"a": 1, "s": {"x": 1}})
    table = Struct()
    table.add(Column("a", Kind.INT64))
    assert [str(c) for c in changes(reconcile(b.root, mark_stored(table)))] == ["s STRUCT<x INT64>"]


def test_a_hint_inside_an_array_of_objects() -> None:
    b = SchemaBuilder(hints={"readings.at": Kind.TIMESTAMP})
    row = b.conform({"readings": [{"at": "2025-01-01T01:00:00+01:00", "v": 1}, {"at": "2025-01-01T02:00:00Z"}]})
    assert row == {"readings": [{"at": "2025-01-01T00:00:00+00:00", "v": 1}, {"at": "2025-01-01T02:00:00+00:00"}]}
    assert b.root.get("readings").type_name() == "ARRAY<STRUCT<at TIMESTAMP, v INT64>>"
