"""Columnar staging: a landing file parsed by Arrow's C++ JSON reader against the schema
built so far, checked, and written as an Arrow IPC file the warehouse loads column-wise.
It costs several times less CPU per record than the row path (`row_path.stage_file`).

It is a shortcut, never a second policy: it takes a file only when the rows are exactly
what the row path would stage, and otherwise hands the file back to it. Handed back: a key
the schema has no plain column for (unless it only holds null, {} or []), a value that
does not fit its column's type, null inside an array, a FLOAT64 value from 2^53 up (maybe an
integer a FLOAT64 changes), an integer beyond 2^53 in an INT64 column not known to hold such,
a column of a type the engine does not write, NaN or Infinity, invalid UTF-8, a record on a line not starting with
"{", a line that is `null`, anything Arrow cannot parse or reads differently (several objects on one line), an empty
file, a file larger (decompressed, found streaming) than the memory budget's share (`Budget.columnar_bytes`), a line
longer than a record may be (`Budget.record_bytes`: the row path rejects the file); and, for a data type with a
normalizer, any file whose keys the normalizer's `leaves_unchanged` does not vouch for (it would reshape the records).

A file staged here never changes the schema. It is checked against the schema as it stands at
its turn (`arrow_plan.fits`), and at load time against the final one (`arrow_plan.loads`): a column that later became
JSON, say, has the file staged again, row by row, against the schema of its turn.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ingestor.budget import Budget
from ingestor.landing import Content, Landing, LandingFile
from ingestor.names import sanitize_column
from ingestor.schema import FLOAT_EXACT, PARSERS, Kind
from ingestor.staging.arrow_plan import Columnar, Field, HandedBack, Level, Plan
from ingestor.staging.reader import BOM, UNREADABLE, lines_within, read_whole

BLOCK_SIZE = 1024 * 1024  # Arrow's parse block
# A line starting with n: `null` (or malformed). Two patterns, each with a literal start that the regex engine
# scans for quickly: one alternation `(?:^|\n)` tried at every byte cost ~27 µs per KB, 2x the whole staging.
_NULL_FIRST_LINE = re.compile(rb"[ \t\r\n]*n")
_NULL_LINE = re.compile(rb"\n[ \t\r]*n")
_RECORD_START = re.compile(rb"\n\{")  # counted by the regex engine: bytes.count(b"\n{") costs ~15x more
Vouch = Callable[[frozenset[tuple[str, ...]]], bool]  # whether the normalizer leaves such records as they are
# Timestamps Arrow parses exactly as `schema.parse_timestamp` does: date, time, fraction, zone.
_ZONE = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
_TIMESTAMP = rf"^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]{{1,6}})?{_ZONE}?$"


class _HandBack(Exception):
    """The file must take the row path."""


_OMIT = object()  # a STRUCT column with no field to store (the row path stores nothing either)


def stage(
    landing: Landing,
    file: LandingFile,
    plan: Plan,
    metadata: dict[str, str],
    path: Path,
    budget: Budget,
    vouch: Vouch | None = None,
    defaults: dict[str, str] | None = None,
) -> Columnar | HandedBack:
    """Stage one file into `path` (Arrow IPC); or why the row path must take it (among others, a file
    or a line larger than the `budget` allows). A data type with a normalizer gives `vouch`, asked with
    the keys of the file's records; `defaults` fill the STRING columns a record lacks
    (`DataType.column_defaults`). The file is read whole, with its checksum, in one read."""
    if file.size > budget.columnar_bytes:
        return HandedBack("large file")
    with landing.open(file) as stream:
        content = Content(stream.read(file.size), stream.checksum())
    try:
        return _stage(content, file, plan, metadata, path, budget, vouch, defaults or {})
    except _HandBack as why:
        return HandedBack(str(why), content)
    except pa.ArrowException as error:  # a case this module does not foresee: the row path decides
        path.unlink(missing_ok=True)
        return HandedBack(f"{type(error).__name__}: {error}", content)


def _stage(
    content: Content,
    file: LandingFile,
    plan: Plan,
    metadata: dict[str, str],
    path: Path,
    budget: Budget,
    vouch: Vouch | None,
    defaults: dict[str, str],
) -> Columnar:
    gzipped = file.name.endswith(".gz")
    try:  # decompressed streaming: no more than the budget's share is held
        data = read_whole(io.BytesIO(content.data), True, budget.columnar_bytes) if gzipped else content.data
    except UNREADABLE:
        raise _HandBack("unreadable compressed data") from None
    if data is None:
        raise _HandBack("large file")
    data = data[3:] if data.startswith(BOM) else data
    if len(data) > budget.record_bytes and not lines_within(data, budget.record_bytes):
        raise _HandBack("a line longer than a record may be")
    # Lines starting with "{": Arrow must find exactly one record for each (blank lines hold none).
    records = data.startswith(b"{") + len(_RECORD_START.findall(data))
    if not records:
        raise _HandBack("no line starts a record")
    # Arrow reads a `null` line as a row of nulls (or crashes on a first line)
    if _NULL_FIRST_LINE.match(data) or _NULL_LINE.search(data):
        raise _HandBack("a line that is null")
    if not _utf8(data):
        raise _HandBack("invalid UTF-8")
    parse = pj.ParseOptions(explicit_schema=plan.schema, unexpected_field_behavior="infer")
    try:
        try:
            table = pj.read_json(io.BytesIO(data), pj.ReadOptions(use_threads=False, block_size=BLOCK_SIZE), parse)
        except pa.ArrowInvalid as error:
            if "straddl" not in str(error):
                raise
            # A record longer than a block: one block for the whole file.
            table = pj.read_json(io.BytesIO(data), pj.ReadOptions(use_threads=False, block_size=len(data) + 1), parse)
    except (pa.ArrowException, ValueError) as error:
        raise _HandBack(str(error).splitlines()[0]) from None
    if table.num_rows != records:  # two objects on one line (the row path rejects it), an indented line, ...
        raise _HandBack(f"{table.num_rows} records on {records} lines")
    if vouch is not None:
        try:
            unchanged = vouch(key_paths(table.schema))
        except Exception as error:  # a plugin's bug: the row path (and its normalizer) decides
            raise _HandBack(f"leaves_unchanged failed: {type(error).__name__}: {error}") from None
        if not unchanged:
            raise _HandBack("the normalizer would reshape its records")
    result = Columnar(rows=table.num_rows, path=path, plan=plan, checksum=content.checksum)
    columns = [c.combine_chunks() for c in table.columns]
    names, arrays = _conform(table.column_names, columns, plan.root, (), result.dropped)
    for name, value in defaults.items():
        if name in names:
            arrays[names.index(name)] = pc.fill_null(arrays[names.index(name)], value)
        else:
            names.append(name)
            arrays.append(pa.repeat(pa.scalar(value, pa.string()), table.num_rows))
    for name, value in metadata.items():
        names.append(name)
        arrays.append(pa.repeat(pa.scalar(value, pa.string()), table.num_rows))
    staged = pa.Table.from_arrays(arrays, names=names)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, staged.schema) as writer:
        writer.write_table(staged)
    return result


def key_paths(schema: pa.Schema) -> frozenset[tuple[str, ...]]:
    """Every key Arrow read (or was told to expect), as the path of keys leading to it,
    through arrays."""
    found: set[tuple[str, ...]] = set()
    pending: list[tuple[tuple[str, ...], pa.Field]] = [((), f) for f in schema]
    while pending:
        parent, f = pending.pop()
        path = (*parent, f.name)
        found.add(path)
        kind = f.type
        while pa.types.is_list(kind):
            kind = kind.value_type
        if pa.types.is_struct(kind):
            pending.extend((path, kind.field(i)) for i in range(kind.num_fields))
    return frozenset(found)


def _utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _conform(
    keys: list[str], arrays: list[pa.Array], level: Level, path: tuple[str, ...], dropped: list[tuple[str, ...]]
) -> tuple[list[str], list[pa.Array]]:
    """The children of one struct level, renamed to their columns; raises _HandBack."""
    names: list[str] = []
    out: list[pa.Array] = []
    for key, array in zip(keys, arrays, strict=True):
        f = level.fields.get(key)
        if f is None:
            if array.null_count == len(array):
                continue  # only nulls: stored as nothing, as by the row path
            if key in level.bound or sanitize_column(key).lower() in level.names:
                raise _HandBack(f"{'.'.join((*path, key))}: a column Arrow does not read (JSON, hinted, ...)")
            if not _carries_no_type(array):
                raise _HandBack(f"{'.'.join((*path, key))}: a new column")
            dropped.append((*path, key))
            continue
        value = _value(array, f, (*path, key), dropped, in_list=False)
        if value is not _OMIT:
            names.append(f.name)
            out.append(value)
    return names, out


def _carries_no_type(array: pa.Array) -> bool:
    """Only {} , [] (or [{}, ...]) and nulls: the row path makes no column of such a key."""
    kind = array.type
    if pa.types.is_struct(kind):
        return bool(kind.num_fields == 0)
    if pa.types.is_list(kind):
        values = array.flatten()
        if pa.types.is_null(values.type):
            return len(values) == 0
        return bool(pa.types.is_struct(values.type) and values.type.num_fields == 0 and values.null_count == 0)
    return False


def _value(array: pa.Array, f: Field, path: tuple[str, ...], dropped: list[tuple[str, ...]], in_list: bool) -> Any:
    if f.repeated:
        values = array.flatten()
        if values.null_count:  # the row path stores the array as JSON
            raise _HandBack(f"{'.'.join(path)}: null inside an array")
        if f.level is None:
            _check_numbers(values, f, path)
            return array
        inner = _struct(values, f, path, dropped, in_list=True)
        if inner is _OMIT:
            return _OMIT
        if inner is values:
            return array
        offsets = pc.subtract(array.offsets, array.offsets[0])
        return pa.ListArray.from_arrays(offsets, inner, mask=array.is_null() if array.null_count else None)
    if f.level is not None:
        return _struct(array, f, path, dropped, in_list)
    if f.kind in PARSERS:
        if f.kind is Kind.TIMESTAMP and (parsed := _timestamps(array)) is not None:
            return parsed
        parse = PARSERS[f.kind]
        try:
            return pa.array([None if v is None else parse(v) for v in array.to_pylist()], pa.string())
        except ValueError as error:
            raise _HandBack(f"{'.'.join(path)}: {error}") from None
    _check_numbers(array, f, path)
    return array


def _timestamps(array: pa.Array) -> pa.Array | None:
    """ISO-8601 strings as UTC timestamps, parsed by Arrow when each is of the common shapes where
    it parses exactly as `schema.parse_timestamp` does (which takes naive values as UTC and
    rejects what Arrow rejects: Feb 30, 24:00, second 60, ...); None: Python must parse them."""
    if not pc.all(pc.match_substring_regex(array, _TIMESTAMP)).as_py():  # (None when all null)
        return None
    text = pc.replace_substring(array, " ", "T", max_replacements=1)
    text = pc.if_else(pc.match_substring_regex(text, _ZONE + "$"), text, pc.binary_join_element_wise(text, "Z", ""))
    try:
        parsed = pc.cast(text, pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        return None
    return parsed if pc.min(pc.year(parsed)).as_py() >= 1 else None  # Python has no year 0


def _check_numbers(array: pa.Array, f: Field, path: tuple[str, ...]) -> None:
    """NaN and Infinity literals, which Arrow reads and the row path rejects; FLOAT64 magnitudes from
    2^53, where an integer literal may have changed (the row path routes it to a variant column); and
    integers beyond 2^53 in an INT64 column the schema does not know to hold such (the row path marks it)."""
    if array.null_count == len(array):
        return
    if f.kind is Kind.FLOAT64:
        if not pc.all(pc.is_finite(array)).as_py():  # (min/max skip NaN)
            raise _HandBack(f"{'.'.join(path)}: NaN or Infinity")
        largest = pc.max(pc.abs(array)).as_py()
        if largest >= FLOAT_EXACT:
            raise _HandBack(f"{'.'.join(path)}: {largest}")
    elif f.kind is Kind.INT64 and not f.large_ints:
        extremes = pc.min_max(array).as_py()
        if extremes["min"] < -FLOAT_EXACT or extremes["max"] > FLOAT_EXACT:
            raise _HandBack(f"{'.'.join(path)}: an integer beyond 2^53")


def _struct(
    array: pa.StructArray, f: Field, path: tuple[str, ...], dropped: list[tuple[str, ...]], in_list: bool
) -> Any:
    """A struct column renamed to its fields' columns. Outside arrays, a struct whose fields
    are all null is NULL, as the row path stores it."""
    assert f.level is not None
    keys = [array.type.field(i).name for i in range(array.type.num_fields)]
    children = array.flatten()  # the parent's nulls pushed down
    names, out = _conform(keys, children, f.level, path, dropped)
    if not names:
        return _OMIT
    changed = names != keys or any(a is not b for a, b in zip(out, children, strict=False))
    mask = array.is_null() if array.null_count else None
    if not in_list:
        empty = out[0].is_null()
        for child in out[1:]:
            empty = pc.and_(empty, child.is_null())
        if pc.sum(empty).as_py() != array.null_count:  # an object with no non-null field: NULL
            mask, changed = empty, True
    if not changed:
        return array
    return pa.StructArray.from_arrays(out, names=names, mask=mask)
