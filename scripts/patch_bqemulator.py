"""Patch the installed bqemulator: quote STRUCT field names when it creates DuckDB tables.

An emulator gap, not a product change: the BigQuery API server builds DuckDB types such as
`STRUCT(group BIGINT)` with bare field names, so a nested field named like a SQL keyword (a real
Garmin activity's `...Contributors[].group`) fails with a parser error, which real BigQuery accepts.
This quotes every field name it writes and unquotes the names it reads back. It edits exact lines of
the pinned version (scripts/emulators-constraints.txt) and fails loudly if they are not found.

Usage: python patch_bqemulator.py  (run by the emulators' own interpreter: install-emulators.sh)
"""

from __future__ import annotations

import sys
from pathlib import Path

import bqemulator.storage.type_map as type_map

EDITS = [
    (
        'duckdb_fields = ", ".join(f"{name} {bq_to_duckdb(ft)}" for name, ft in fields)',
        'duckdb_fields = ", ".join(f"{_quoted(name)} {bq_to_duckdb(ft)}" for name, ft in fields)',
    ),
    (
        'inner_spec = ", ".join(f"{n} {t}" for n, t in inner_cols)',
        'inner_spec = ", ".join(f"{_quoted(n)} {t}" for n, t in inner_cols)',
    ),
    (
        "    return parts[0], parts[1]\n",
        "    return _unquoted(parts[0]), parts[1]\n\n\n"
        "def _quoted(name: str) -> str:  # patched by ingestor's scripts/patch_bqemulator.py\n"
        "    return '\"' + _unquoted(name).replace('\"', '\"\"') + '\"'\n\n\n"
        "def _unquoted(name: str) -> str:  # patched by ingestor's scripts/patch_bqemulator.py\n"
        "    if len(name) > 1 and name[0] == name[-1] == '\"':\n"
        "        return name[1:-1].replace('\"\"', '\"')\n"
        "    return name\n",
    ),
]


def main() -> int:
    path = Path(type_map.__file__)
    source = path.read_text()
    if "def _quoted(" in source:
        return 0  # already patched
    for old, new in EDITS:
        if source.count(old) != 1:
            print(f"patch_bqemulator: expected one {old!r} in {path}; is this the pinned version?", file=sys.stderr)
            return 1
        source = source.replace(old, new)
    path.write_text(source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
