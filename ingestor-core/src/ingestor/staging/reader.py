"""Streaming NDJSON: one JSON object per line, UTF-8, plain or gzip."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from typing import IO, Any, cast

import orjson

from ingestor.budget import MAX_RECORD_BYTES, MiB
from ingestor.errors import ReasonCode, RefusedError, json_error

BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark, accepted at the start of a file
NUL = b"\x00"
# Maps digits to "0" and everything else to ".", so a run of 20 digits is found with `in` (fast).
_DIGITS = bytes(48 if 48 <= b <= 57 else 46 for b in range(256))
_LONG_RUN = b"0" * 19  # below -2**63 orjson returns a (rounded) float: 19 digits suffice
_U64_MAX = 2**64 - 1
# Records nested deeper than this (objects and arrays) cannot become a table schema (BigQuery allows 15 levels
# of RECORD; from ~60 levels the engine's schema code would exhaust Python's recursion): they reject their file.
MAX_DEPTH = 32
UNREADABLE = (gzip.BadGzipFile, EOFError, zlib.error)  # corrupt compressed data (not any OSError: the disk)


class MalformedFile(RefusedError, ValueError):
    """A file that cannot be loaded as a whole, with the line that made it so."""

    code = ReasonCode.MALFORMED_LINE
    problem = "malformed NDJSON"

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message

    @property
    def reason(self) -> str:
        """The file's rejection reason."""
        return f"{self.problem} at line {self.line}: {self.message}"


class RecordTooLong(MalformedFile):
    """A line longer than the bound on a record's size (read no further)."""

    code = ReasonCode.RECORD_TOO_LONG
    problem = "record too long"


class NotNDJSON(MalformedFile):
    """Not NDJSON text at all: NUL bytes (what a crash can leave), corrupt compressed data."""

    code = ReasonCode.NOT_NDJSON


def _too_long(line: int, max_bytes: int) -> RecordTooLong:
    if max_bytes >= MAX_RECORD_BYTES:
        why = f"the most a record may take (DuckDB's JSON reader takes {MAX_RECORD_BYTES // MiB} MiB a row)"
    else:
        why = f"the longest a record may be (INGESTOR_MAX_RECORD_BYTES raises it, up to {MAX_RECORD_BYTES // MiB} MiB)"
    return RecordTooLong(line, f"the line is longer than {max_bytes:,} bytes, {why}")


def _nul_bytes(line: int, raw: bytes) -> NotNDJSON:
    """NUL bytes, never in JSON text: what a crash can leave in a file being written."""
    where = raw.index(NUL) + 1
    return NotNDJSON(line, f"NUL bytes (\\x00) from byte {where} of the line: not text, what a crash can leave")


def _checked_int(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value <= _U64_MAX:  # what orjson reads exactly (and writes back)
        raise ValueError(f"integer {text[:30]}... does not fit 64 bits")
    return value


def _too_deep(record: dict[str, Any]) -> bool:
    """Whether objects and arrays nest deeper than MAX_DEPTH, found without recursion."""
    stack: list[tuple[Any, int]] = [(record, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = value.values() if type(value) is dict else value
        stack.extend((child, depth + 1) for child in children if type(child) in (dict, list))
    return False


def read_records(
    stream: IO[bytes], gzipped: bool = False, null_lines: list[int] | None = None, *, max_bytes: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for an NDJSON stream; raise MalformedFile at the first bad line.

    Lines are read streaming, at most `max_bytes` each (newline excluded): a longer line raises
    RecordTooLong at once, so a file that is not NDJSON (NUL bytes, an array on one line) is never read
    whole. Blank lines are skipped, CRLF line ends and a leading UTF-8 byte-order mark are accepted. A
    line that is JSON `null` is no record: it is skipped, and its number appended to `null_lines`
    (fetchers write out the `null` items of API pages). Integers beyond 64 bits are refused rather than
    rounded.
    """
    readline, limit = _decompressed(stream, gzipped).readline, max_bytes + 1  # the longest line and its newline
    line_number = 0
    try:
        while raw := readline(limit):
            line_number += 1
            if len(raw) == limit and not raw.endswith(b"\n"):
                raise _nul_bytes(line_number, raw) if NUL in raw else _too_long(line_number, max_bytes)
            if line_number == 1 and raw.startswith(BOM):
                raw = raw[3:]
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                if not raw.strip():
                    continue
                bad = _nul_bytes(line_number, raw) if NUL in raw else MalformedFile(line_number, json_error(error))
                raise bad from None
            if record is None:
                if null_lines is not None:
                    null_lines.append(line_number)
                continue
            if type(record) is not dict:
                raise MalformedFile(line_number, f"expected a JSON object, found {type(record).__name__}")
            if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _too_deep(record):
                raise MalformedFile(line_number, f"nested deeper than {MAX_DEPTH} levels")
            if _LONG_RUN in raw.translate(_DIGITS):  # maybe an integer orjson would round
                try:
                    record = json.loads(raw, parse_int=_checked_int)  # exact integers
                except ValueError as error:
                    raise MalformedFile(line_number, json_error(error)) from None
            yield line_number, record
    except UNREADABLE as error:
        raise NotNDJSON(line_number + 1, f"unreadable compressed data: {error}") from None


def read_whole(stream: IO[bytes], gzipped: bool, max_bytes: int) -> bytes | None:
    """A stream's whole content, decompressed streaming; None once it passes `max_bytes` (no more is held,
    however far a gzip bomb expands). Corrupt compressed data raises one of UNREADABLE."""
    data = _decompressed(stream, gzipped).read(max_bytes + 1)
    return None if len(data) > max_bytes else data


def lines_within(data: bytes, max_bytes: int) -> bool:
    """Whether every line of `data` holds at most `max_bytes` (its newline excluded)."""
    start = 0
    while (end := data.find(b"\n", start)) != -1:
        if end - start > max_bytes:
            return False
        start = end + 1
    return len(data) - start <= max_bytes


def _decompressed(stream: IO[bytes], gzipped: bool) -> IO[bytes]:
    """The stream, or its content decompressed as it is read (gzip, any number of members)."""
    return cast(IO[bytes], gzip.GzipFile(fileobj=stream)) if gzipped else stream
