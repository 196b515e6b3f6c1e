"""Column types inferred from JSON records, merged across files and with the live table.

Policy (documented in docs/schema-policy.md):
- objects become STRUCT columns, arrays REPEATED columns; null, {} and [] carry no type
  and create no column (they are stored as NULL); an object with no non-null field is
  stored as a NULL struct (inside arrays it stays an element whose fields are NULL);
- INT64 widens to FLOAT64, unless a FLOAT64 would change a value: an integer beyond 2^53 and a
  FLOAT64 never share a column (the later value goes to the variant column below; for a column
  the table has, the warehouse is asked whether it holds such integers before it widens);
  a hinted TIMESTAMP/DATE column takes ISO-8601 strings, normalized to UTC;
- arrays of arrays, arrays holding nulls and integers beyond 64 bits are stored as JSON;
- a real conflict (string vs object, scalar vs array, ...) on a column that is new in this
  load turns that column into JSON, so no value is lost; a STRING column the table already
  has takes any value as text (`as_text`: its type wins, nothing is lost); on another column
  the table has or a hint declares, the conflicting values go to a sibling JSON column named
  `<name>__v_json` (or, when that one does not take them either, on: its own variant, or `__2`);
- a column of a type the engine does not write (a hand-made `DECIMAL(4,2)`, `MAP`, ...) takes
  what that type holds exactly, and is never altered;
- keys are sanitized with `names.sanitize_column`; keys that differ only by case share a
  column (as in BigQuery); every key of an object lands in exactly one column: when two
  spellings occur in one object (or a key names a metadata column), the later one goes to
  `<name>__<n>`, and a key naming a variant column keeps it.

Modules: `kinds` (Kind, integer bounds), `types` (Column, Struct, Declared), `native` (the types the
engine does not write), `values` (a JSON value's kind, text and parsed forms), `policy` (widening and
conflicts, one rule for inference and merging), `declare` (declared columns and hints), `placing` (where
the values of one object may go), `builder` (`SchemaBuilder`: inference), `changes` (compared with the
table: `reconcile`, `changes`; combined: `merge`).
"""

from ingestor.schema.builder import Probe, SchemaBuilder
from ingestor.schema.changes import AddColumn, SchemaChange, WidenColumn, changes, mark_stored, merge, reconcile
from ingestor.schema.native import Decimals, Floats, Integers, Map, Native, Scalars
from ingestor.schema.policy import VARIANT_SUFFIX, Conflict
from ingestor.schema.types import FLOAT_EXACT, INT64_MAX, INT64_MIN, Column, Declared, Kind, Struct
from ingestor.schema.values import PARSERS, as_text, inserted_at, parse_date, parse_timestamp

__all__ = [
    "FLOAT_EXACT",
    "INT64_MAX",
    "INT64_MIN",
    "PARSERS",
    "VARIANT_SUFFIX",
    "AddColumn",
    "Column",
    "Conflict",
    "Decimals",
    "Declared",
    "Floats",
    "Integers",
    "Kind",
    "Map",
    "Native",
    "Probe",
    "Scalars",
    "SchemaBuilder",
    "SchemaChange",
    "Struct",
    "WidenColumn",
    "as_text",
    "changes",
    "inserted_at",
    "mark_stored",
    "merge",
    "parse_date",
    "parse_timestamp",
    "reconcile",
]
