"""NDJSON reading, file matching and identifier safety."""

from __future__ import annotations

import gzip
import io
import os
import re
from urllib.parse import unquote_to_bytes

import pytest

from ingestor.catalog import AmbiguousFile, Catalog, DataType, split_extension
from ingestor.landing import (
    UnsafeName,
    check_name,
    fitted,
    hidden,
    is_utf8,
    numbered,
    printable,
    reason_name,
    utf8_name,
)
from ingestor.names import InvalidIdentifier, quote, sanitize_column, validate_identifier
from ingestor.reader import MalformedFile, read_records


def records(data: bytes, gzipped: bool = False) -> list:
    return list(read_records(io.BytesIO(data), gzipped=gzipped))


def test_reader_yields_line_numbers_and_skips_blank_lines() -> None:
    assert records(b'{"a":1}\n\n  \n{"a":2}') == [(1, {"a": 1}), (4, {"a": 2})]


def test_reader_skips_null_lines_and_says_which() -> None:
    nulls: list[int] = []
    found = list(read_records(io.BytesIO(b'null\n{"a":1}\n null \r\n{"a":2}\n'), null_lines=nulls))
    assert found == [(2, {"a": 1}), (4, {"a": 2})] and nulls == [1, 3]


@pytest.mark.parametrize(
    ("data", "line", "fragment"),
    [
        (b'{"a":1}\n{"a":', 2, "line 2"),
        (b"[1,2]\n", 1, "expected a JSON object"),
        (b'{"a":1}\n"null"\n', 2, "expected a JSON object"),
        (b'{"a":NaN}\n', 1, "line 1"),
        (b'{"a":"\xff"}\n', 1, "UTF-8"),
        (b'{"a":1}\n{"b": 1e999}\n', 2, "line 2"),
    ],
)
def test_reader_refuses_bad_lines(data: bytes, line: int, fragment: str) -> None:
    with pytest.raises(MalformedFile) as error:
        records(data)
    assert error.value.line == line and fragment in str(error.value) + error.value.message


def test_reader_gzip_and_corrupt_gzip() -> None:
    assert records(gzip.compress(b'{"a":1}\n'), gzipped=True) == [(1, {"a": 1})]
    with pytest.raises(MalformedFile, match="compressed"):
        records(gzip.compress(b'{"a":1}\n' * 100)[:-20], gzipped=True)


def test_split_extension() -> None:
    assert split_extension("x_garmin_sleep.jsonl.gz") == ("x_garmin_sleep", ".jsonl.gz")
    assert split_extension("x.json") is None and split_extension(".jsonl") is None


def test_catalog_matching_is_anchored_and_refuses_ties() -> None:
    catalog = Catalog(
        [
            DataType(service="g", name="activities", dataset="d", table="t1"),
            DataType(service="g", name="activity_splits", dataset="d", table="t2"),
            DataType(service="g", name="a1", dataset="d", table="t3", file_patterns=(r".+_x",)),
            DataType(service="g", name="b1", dataset="d", table="t4", file_patterns=(r".+_x",)),
        ]
    )
    assert catalog.match("g", "2025_01_01_00_00_g_activity_splits.jsonl").data_type.name == "activity_splits"
    assert catalog.match("g", "2025_01_01_00_00_g_activities.jsonl").data_type.name == "activities"
    assert catalog.match("g", "2025_01_01_00_00_g_activities_old.jsonl") is None
    assert catalog.match("g", "g_activities.jsonl") is None  # something must precede: anchored
    with pytest.raises(AmbiguousFile):
        catalog.match("g", "a_x.jsonl")
    with pytest.raises(ValueError, match="twice"):
        Catalog([DataType(service="g", name="a", dataset="d", table="t")] * 2)


def test_data_type_names_are_validated() -> None:
    with pytest.raises(ValueError):
        DataType(service="g", name="a", dataset="d_{env}; DROP TABLE x", table="t")
    with pytest.raises(ValueError):
        DataType(service="g b", name="a", dataset="d", table="t")


def test_identifiers() -> None:
    assert validate_identifier("dp_lake_dev") == "dp_lake_dev"
    for bad in ("a-b", "1a", 'a"b', "", "a b"):
        with pytest.raises(InvalidIdentifier):
            validate_identifier(bad)
    with pytest.raises(InvalidIdentifier):
        quote('x" OR 1=1 --')
    assert sanitize_column("heart rate (bpm)") == "heart_rate_bpm"
    assert not sanitize_column("_PARTITIONTIME").lower().startswith("_partition")
    assert sanitize_column("日本") == "_" and sanitize_column("x" * 400) == "x" * 300


def test_object_names_cannot_escape() -> None:
    for bad in ("a/../b", "/abs", "a//b", "a/./b", "a\\b", "a/\x00b"):
        with pytest.raises(UnsafeName):
            check_name(bad)
    assert numbered("g/archive/a/b.jsonl.gz", 2) == "g/archive/a/b__2.jsonl.gz"


def test_names_that_are_not_utf8() -> None:
    name = os.fsdecode(b"g/landing/caf\xe9 100%_g_x.jsonl")  # as Python lists a Latin-1 file name
    assert not is_utf8(name) and is_utf8("g/landing/café.jsonl")
    assert printable(name) == "g/landing/caf\\xe9 100%_g_x.jsonl"
    assert utf8_name(name) == "g/landing/caf%E9 100%25_g_x.jsonl"  # reversible:
    assert unquote_to_bytes(utf8_name(name)) == os.fsencode(name)
    assert utf8_name("g/café 100%") == printable("g/café 100%") == "g/café 100%"  # valid names as they are
    with pytest.raises(UnsafeName, match=re.escape("caf\\xe9 100%_g_x.jsonl' is not valid UTF-8")):
        check_name(name)
    # names made from such a name (one already in rejected/ or archive/) never fail, and fit
    long = os.fsdecode(b"g/rejected/" + b"\xe9" * 250 + b".jsonl")
    for made in (fitted(long.rsplit("/", 1)[1]), numbered(long, 2), reason_name(long), reason_name(name)):
        assert len(os.fsencode(made.rsplit("/", 1)[-1])) <= 255
    assert numbered(name, 2) == os.fsdecode(b"g/landing/caf\xe9 100%_g_x__2.jsonl")


def test_hidden_names() -> None:
    assert hidden(".x.jsonl.tmp") and hidden(".incoming/x.jsonl") and hidden("a/.b/c.jsonl")
    assert not hidden("a..b/c.jsonl") and not hidden("x/")
    assert not hidden("./x.jsonl") and not hidden("a/../x.jsonl")  # unsafe names (in a bucket): rejected, not hidden
