"""Streaming NDJSON: one JSON object per line, UTF-8, plain or gzip."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from typing import IO, Any, cast

import orjson

from ingestor.errors import json_error

BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark, accepted at the start of a file
# Maps digits to "0" and everything else to ".", so a run of 20 digits is found with `in` (fast).
_DIGITS = bytes(48 if 48 <= b <= 57 else 46 for b in range(256))
_LONG_RUN = b"0" * 19  # below -2**63 orjson returns a (rounded) float: 19 digits suffice
_U64_MAX = 2**64 - 1
# Records nested deeper than this (objects and arrays) cannot become a table schema (BigQuery allows 15 levels
# of RECORD; from ~60 levels the engine's schema code would exhaust Python's recursion): they reject their file.
MAX_DEPTH = 32


class MalformedFile(ValueError):
    """A file that cannot be loaded as a whole, with the line that made it so."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


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
    stream: IO[bytes], gzipped: bool = False, null_lines: list[int] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for an NDJSON stream; raise MalformedFile at the first bad line.

    Blank lines are skipped, CRLF line ends and a leading UTF-8 byte-order mark are
    accepted. A line that is JSON `null` is no record: it is skipped, and its number appended
    to `null_lines` (fetchers write out the `null` items of API pages). Integers beyond 64 bits
    are refused rather than rounded.
    """
    source: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=stream)) if gzipped else stream
    line_number = 0
    try:
        for raw in source:
            line_number += 1
            if line_number == 1 and raw.startswith(BOM):
                raw = raw[3:]
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                if not raw.strip():
                    continue
                raise MalformedFile(line_number, json_error(error)) from None
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
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:  # not any OSError: reading can fail for the disk's sake
        raise MalformedFile(line_number + 1, f"unreadable compressed data: {error}") from None
