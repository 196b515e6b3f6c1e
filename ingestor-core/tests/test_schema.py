"""Inference, merging and the conflict policy of schema.SchemaBuilder."""

from __future__ import annotations

import copy

import pytest

from ingestor.schema import (
    AddColumn,
    Column,
    Decimals,
    Floats,
    Integers,
    Kind,
    Map,
    Native,
    SchemaBuilder,
    Struct,
    WidenColumn,
    changes,
    mark_stored,
    merge,
    reconcile,
)


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


def stored(*columns: Column) -> Struct:
    table = Struct()
    for column in columns:
        table.add(column)
    return mark_stored(table)


def test_two_spellings_routed_to_the_variant_keep_both_values() -> None:
    """Before: both spellings went to `v__v_json` and the second overwrote the first."""
    inner = Struct()
    inner.add(Column("w", Kind.INT64))
    b = SchemaBuilder(stored(Column("v", Kind.INT64), Column("o", Kind.STRUCT, fields=inner)))
    row = b.conform({"v": "lower", "V": "UPPER", "o": {"w": "a", "W": "b"}})
    assert row == {"v__v_json": "lower", "V__2": "UPPER", "o": {"w__v_json": "a", "W__2": "b"}}
    assert b.conform({"V": "UPPER", "v": "lower"}) == {"v__v_json": "UPPER", "V__2": "lower"}  # its column now


def test_a_key_naming_the_variant_column_keeps_it_in_either_order() -> None:
    b = SchemaBuilder(stored(Column("v", Kind.INT64)))
    assert b.conform({"v__v_json": "mine", "v": "text"}) == {"v__v_json": "mine", "v__v_json__2": "text"}
    assert b.conform({"v": "text", "v__v_json": "mine"}) == {"v__v_json__2": "text", "v__v_json": "mine"}
    assert b.conform({"v": "text"}) == {"v__v_json": "text"}  # a row without the key: the variant itself


def test_a_variant_column_typed_by_earlier_data_takes_what_fits_and_routes_on() -> None:
    """Before: a BIGINT `v__v_json` (an integer key of that name, once) took every routed string, and the
    warehouse rejected the file."""
    b = SchemaBuilder(stored(Column("v", Kind.INT64), Column("v__v_json", Kind.INT64)))
    assert b.conform({"v": "text"}) == {"v__v_json__v_json": "text"}
    assert b.conform({"v": 2.5}) == {"v": 2.5}  # a float widens `v` itself (it holds no large integer)
    assert [str(c) for c in changes(b.root)] == ["v INT64 -> FLOAT64", "v__v_json__v_json JSON"]


def test_a_record_key_naming_a_reserved_column_goes_to_a_free_name() -> None:
    b = SchemaBuilder(hints={"_dp_inserted_at": Kind.TIMESTAMP})
    row = b.conform({"_dp_inserted_at": "x", "_DP_INSERTED_AT": "y", "id": 1}, reserved=["_dp_inserted_at"])
    assert row == {"_dp_inserted_at": None, "_dp_inserted_at__2": "x", "_DP_INSERTED_AT__3": "y", "id": 1}


def test_suffixed_names_stay_within_300_characters() -> None:
    long = "k" * 320
    b = SchemaBuilder(stored(Column("k" * 300, Kind.INT64)))
    row = b.conform({long: "text", long.upper(): 5})
    assert sorted(row) == ["K" * 297 + "__2", "k" * 292 + "__v_json"]
    assert all(len(c.name) <= 300 for c in b.root.columns.values())


def test_an_integer_beyond_2_53_never_shares_a_column_with_a_float() -> None:
    """Before: the column became FLOAT64 and 9007199254740993 became 9007199254740992.0."""
    b = built({"k": 9007199254740993}, {"k": 0.5}, {"f": 0.5}, {"f": -(2**60)}, {"a": [2**60, 0.5]})
    assert b.root.get("k").type_name() == "INT64" and b.root.get("f").type_name() == "FLOAT64"
    assert b.root.get("a").kind is Kind.JSON  # an array mixing them: JSON, as any array its type would change
    assert b.conform({"k": 0.5, "f": 2**60}) == {"k__v_json": 0.5, "f__v_json": 2**60}
    why = "FLOAT64 would change the integers beyond 2^53 it holds"
    assert b.notes[0] == f"k: value does not fit the new INT64 ({why}); stored in k__v_json"


def test_a_column_of_the_table_widens_only_when_the_warehouse_says_it_holds_no_large_integer() -> None:
    asked: list[str] = []

    def probe(name: str) -> bool:
        asked.append(name)
        return name == "big"

    b = SchemaBuilder(stored(Column("big", Kind.INT64), Column("small", Kind.INT64)), probe=probe)
    assert b.conform({"big": 0.5, "small": 0.5}) == {"big__v_json": 0.5, "small": 0.5}
    assert b.conform({"big": 1.5, "small": 2**60}) == {"big__v_json": 1.5, "small__v_json": 2**60}
    assert asked == ["big", "small"]  # once per column, only when it would widen
    assert [str(c) for c in changes(b.root)] == ["small INT64 -> FLOAT64", "big__v_json JSON", "small__v_json JSON"]


def test_a_merge_does_not_widen_over_large_integers_and_reports_the_rows_to_stage_again() -> None:
    table = stored(Column("k", Kind.INT64), Column("j", Kind.INT64))
    worker = SchemaBuilder(copy.deepcopy(table))  # a staging worker: no probe, widens tentatively
    worker.conform({"k": 0.5, "j": 0.5})
    main = SchemaBuilder(table, probe=lambda name: name == "k")
    assert merge(main.root, worker.root, main.notes, main.probe) == ["k"]
    assert main.root.get("k").type_name() == "INT64" and main.root.get("j").type_name() == "FLOAT64"
    other = SchemaBuilder()
    other.conform({"n": 2**60})
    floats = SchemaBuilder()
    floats.conform({"n": 0.5})
    assert merge(floats.root, other.root, []) == ["n"]  # its large integers would change as FLOAT64


@pytest.mark.parametrize(
    ("native", "fits", "does_not"),
    [
        (Integers("INTEGER", -(2**31), 2**31 - 1), [5, -(2**31)], [2**31, 1.0, "5", True]),
        (Integers("UBIGINT", 0, 2**64 - 1), [2**64 - 1], [-1, 0.5]),
        (Decimals("DECIMAL(4,2)", 4, 2), [1.25, 0.1, 99, -99.99], [0.125, 100, 123.4, "1.2"]),
        (Decimals("DECIMAL(18,3)", 18, 3), [1.5], [123456789012345.67]),  # the FLOAT64 read in rounds elsewhere
        (Floats("FLOAT", single=True), [0.5, 2**24], [0.1, 2**25 + 1, 1e39]),
        (
            Map("MAP(VARCHAR, INTEGER)", Integers("INTEGER", -(2**31), 2**31 - 1)),
            [{"a": 1, "b": None}],
            [{"a": "x"}, 5],
        ),
        (Native("UUID"), [], ["0b9a5c1e-0000-0000-0000-000000000000"]),
    ],
)
def test_a_native_type_takes_only_what_it_holds_exactly(native: Native, fits: list, does_not: list) -> None:
    assert all(native.takes(value) for value in fits) and not any(native.takes(value) for value in does_not)
    b = SchemaBuilder(stored(Column("k", native.kind, native=native)))
    for value in [*fits, *does_not]:
        assert b.conform({"k": value}) == ({"k": value} if value in fits else {"k__v_json": value})
    assert [str(c) for c in changes(b.root)] == ["k__v_json JSON"]
