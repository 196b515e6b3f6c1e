"""NDJSON reading, file matching and identifier safety."""

from __future__ import annotations

import gzip
import io
import os
import re
from pathlib import Path
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
from ingestor.staging.reader import MalformedFile, RecordTooLong, read_records
from ingestor.testing import Declarations, Harness

BOUND = 1024  # a tiny bound on a line, as INGESTOR_MAX_RECORD_BYTES may set it


def records(data: bytes, gzipped: bool = False, max_bytes: int = 1 << 20) -> list:
    return list(read_records(io.BytesIO(data), gzipped=gzipped, max_bytes=max_bytes))


def line_of(size: int, uid: int = 1) -> bytes:
    """A record of exactly `size` bytes, its newline excluded."""
    head = b'{"uid": %d, "v": "' % uid
    return head + b"x" * (size - len(head) - 2) + b'"}'


def test_reader_yields_line_numbers_and_skips_blank_lines() -> None:
    assert records(b'{"a":1}\n\n  \n{"a":2}') == [(1, {"a": 1}), (4, {"a": 2})]


def test_reader_skips_null_lines_and_says_which() -> None:
    nulls: list[int] = []
    found = list(read_records(io.BytesIO(b'null\n{"a":1}\n null \r\n{"a":2}\n'), null_lines=nulls, max_bytes=BOUND))
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


@pytest.mark.parametrize("gzipped", [False, True])
def test_reader_takes_a_line_at_its_bound_and_rejects_one_byte_more_at_once(gzipped: bool) -> None:
    def pack(data: bytes) -> bytes:
        return gzip.compress(data) if gzipped else data

    at_bound = line_of(BOUND, 1) + b"\n" + line_of(BOUND, 2)  # the last line without its newline, too
    assert [n for n, _ in records(pack(at_bound), gzipped, BOUND)] == [1, 2]
    for over in (line_of(BOUND + 1, 3) + b"\n", line_of(BOUND + 1, 3)):  # with and without a final newline
        with pytest.raises(RecordTooLong) as error:
            records(pack(b'{"uid": 1}\n\n' + over + b'{"uid": 4}\n'), gzipped, BOUND)
        assert error.value.line == 3 and f"longer than {BOUND:,} bytes" in error.value.message
        assert "INGESTOR_MAX_RECORD_BYTES" in error.value.reason and error.value.reason.startswith("record too long")


def test_reader_bound_at_its_most_names_the_warehouse_limit() -> None:
    with pytest.raises(RecordTooLong) as error:
        list(read_records(io.BytesIO(b"[" * (64 * 2**20 + 1)), max_bytes=64 * 2**20))
    assert "DuckDB's JSON reader takes 64 MiB a row" in error.value.message


@pytest.mark.parametrize("gzipped", [False, True])
def test_reader_rejects_a_giant_line_within_its_first_bound(gzipped: bool) -> None:
    """An array of 10 MB on one line: rejected having read little more than the bound, compressed or not."""
    data = b"[" + b'{"uid": 1, "v": "item"},' * 400_000 + b"{}]\n"
    stream = io.BytesIO(gzip.compress(data) if gzipped else data)
    with pytest.raises(RecordTooLong) as error:
        list(read_records(stream, gzipped, max_bytes=BOUND))
    assert error.value.line == 1
    assert stream.tell() < 64 * 1024, stream.tell()  # of 10 MB plain, or 60 KB compressed: not read whole


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"\x00" * 100_000, 1),  # a crash artifact: no line end within the bound
        (b'{"uid": 1}\n\x00\x00\x00\n', 2),
        (b'{"uid": 1}\n{"uid": 2}\x00\n', 2),
        (b'{"uid": 1}\n' + b"\x00" * 10 + b'{"uid": 2}\n', 2),
    ],
)
def test_reader_names_nul_bytes(data: bytes, line: int) -> None:
    for gzipped in (False, True):
        with pytest.raises(MalformedFile) as error:
            records(gzip.compress(data) if gzipped else data, gzipped, BOUND)
        assert error.value.line == line and "NUL bytes" in error.value.message
        assert not isinstance(error.value, RecordTooLong)


def test_the_bound_is_a_setting_that_reaches_staging(tmp_path: Path) -> None:
    """INGESTOR_MAX_RECORD_BYTES bounds a line in a real run (row and columnar paths); a value above 64 MiB is
    refused as a configuration error."""
    harness = Harness(tmp_path, Declarations(DataType(service="acme", name="events", dataset="d", table="events")))
    harness.land("acme/landing/a_acme_events.jsonl", line_of(BOUND) + b"\n")
    harness.land("acme/landing/b_acme_events.jsonl.gz", line_of(BOUND) * 2 + b"\n" + line_of(BOUND, 3) + b"\n")
    harness.land("acme/landing/c_acme_events.jsonl", b"\n".join(line_of(BOUND, n) for n in range(100)) + b"x\n")
    result = harness.ingest("--service", "acme", env={"INGESTOR_MAX_RECORD_BYTES": str(BOUND)})
    outcomes = {f.path.rsplit("/", 1)[1]: f for f in result.files}
    assert outcomes["a_acme_events.jsonl"].status == "loaded"
    gz = outcomes["b_acme_events.jsonl.gz"]
    assert gz.status == "rejected" and gz.reason is not None and gz.reason.startswith("record too long at line 1")
    assert outcomes["c_acme_events.jsonl"].reason == (
        f"record too long at line 100: the line is longer than {BOUND:,} bytes, the longest a record may be "
        "(INGESTOR_MAX_RECORD_BYTES raises it, up to 64 MiB)"
    )
    refused = harness.run("--service", "acme", env={"INGESTOR_MAX_RECORD_BYTES": str(64 * 2**20 + 1)})
    assert refused.exit_code == 2 and "INGESTOR_MAX_RECORD_BYTES" in refused.stderr


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
