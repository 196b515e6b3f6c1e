"""Identifiers: validating names from plugins, sanitizing names from data, quoting for SQL.

Table and dataset names come from plugin declarations and are validated; column
names come from records (untrusted) and are sanitized deterministically into the
subset every warehouse accepts: ASCII letters, digits and underscores, at most 300
characters (BigQuery's limit), suffixes included (`suffixed`). Column types read back
from a warehouse are validated before DDL repeats them (`validate_type`).
"""

from __future__ import annotations

import re
import unicodedata

from ingestor.errors import IngestorError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,1023}")
_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_]+")
# Prefixes BigQuery reserves for its own pseudo-columns.
_RESERVED_PREFIXES = ("_table_", "_file_", "_partition", "_row_timestamp", "__root__", "_colidentifier")
MAX_COLUMN_NAME = 300
# A type's spelling: words, digits, brackets, commas, dots, spaces, and quoted literals or identifiers (quotes doubled).
_TYPE = re.compile(r"""(?:[A-Za-z0-9_(),<>\[\]. ]|'(?:[^']|'')*'|"(?:[^"]|"")*")+""")


class InvalidIdentifier(IngestorError, ValueError):
    """A dataset, table or column name that cannot be used safely."""


def validate_identifier(name: str, what: str = "identifier") -> str:
    """Return `name` if it is a plain identifier ([A-Za-z_][A-Za-z0-9_]*), else raise."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise InvalidIdentifier(f"invalid {what} {name!r}: use letters, digits and underscores")
    return name


def sanitize_column(key: str) -> str:
    """Turn any JSON key into a column name every warehouse accepts, deterministically."""
    if _IDENTIFIER.fullmatch(key) and len(key) <= MAX_COLUMN_NAME and not key.lower().startswith(_RESERVED_PREFIXES):
        return key
    ascii_key = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode("ascii")
    name = _INVALID_CHARS.sub("_", ascii_key).strip("_") or "_"
    if name[0].isdigit():
        name = "_" + name
    if name.lower().startswith(_RESERVED_PREFIXES):
        name = "f" + name
    return name[:MAX_COLUMN_NAME]


def suffixed(name: str, suffix: str) -> str:
    """`name` + `suffix` (`__2`, `__v_json`), the name cut so that the whole stays within MAX_COLUMN_NAME."""
    return name[: MAX_COLUMN_NAME - len(suffix)] + suffix


def validate_type(spelling: str) -> str:
    """Return a column type as a warehouse spells it (`DECIMAL(4,2)`, `MAP(VARCHAR, INTEGER)`, `ENUM('a', 'b')`)
    if DDL may repeat it: words, digits, brackets, commas and complete quoted literals only; else raise."""
    if not _TYPE.fullmatch(spelling):
        raise InvalidIdentifier(f"invalid column type {spelling!r}")
    return spelling


def quote(name: str) -> str:
    """Quote an already validated identifier with double quotes (DuckDB, standard SQL)."""
    validate_identifier(name)
    return f'"{name}"'
