"""Column types inferred from JSON records, merged across files and with the live table.

Policy (documented in docs/schema-policy.md):
- objects become STRUCT columns, arrays REPEATED columns; null, {} and [] carry no type
  and create no column (they are stored as NULL); an object with no non-null field is
  stored as a NULL struct (inside arrays it stays an element whose fields are NULL);
- INT64 widens to FLOAT64; a hinted TIMESTAMP/DATE column takes ISO-8601 strings,
  normalized to UTC;
- arrays of arrays, arrays holding nulls and integers beyond 64 bits are stored as JSON;
- a real conflict (string vs object, scalar vs array, ...) on a column that is new in this
  load turns that column into JSON, so no value is lost; a STRING column the table already
  has takes any value as text (`as_text`: its type wins, nothing is lost); on another column
  the table has or a hint declares, the conflicting values go to a sibling JSON column named
  `<name>__v_json`;
- keys are sanitized with `names.sanitize_column`; keys that differ only by case share a
  column (as in BigQuery); when both spellings occur in one object, the later one goes to
  `<name>__<n>`.

Modules: `types` (Kind, Column, Struct, Declared), `values` (a JSON value's kind, text and parsed forms),
`policy` (widening and conflicts, one rule for inference and merging), `builder` (`SchemaBuilder`:
inference), `changes` (compared with the table: `reconcile`, `changes`; combined: `merge`).
"""

from ingestor.schema.builder import SchemaBuilder
from ingestor.schema.changes import AddColumn, SchemaChange, WidenColumn, changes, mark_stored, merge, reconcile
from ingestor.schema.policy import VARIANT_SUFFIX, Conflict
from ingestor.schema.types import INT64_MAX, INT64_MIN, Column, Declared, Kind, Struct
from ingestor.schema.values import PARSERS, as_text, inserted_at, parse_date, parse_timestamp

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "PARSERS",
    "VARIANT_SUFFIX",
    "AddColumn",
    "Column",
    "Conflict",
    "Declared",
    "Kind",
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
