"""The live schema of each table a run touches: read from the warehouse once per run (again only after a
failed load), then kept current by the step that changes it (a committed load makes the schema it loaded the
table's); and, asked only
before a column the table has widens to FLOAT64, whether it holds integers beyond 2^53 (once per
column a run)."""

from __future__ import annotations

import copy
import threading

from ingestor.schema import FLOAT_EXACT, Struct, mark_stored
from ingestor.warehouse import LoadError, Warehouse

_UNKNOWN = object()


class LiveSchemas:
    """Each table's schema as it stands now (None: no such table), read on first use."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._known: dict[tuple[str, str], Struct | None] = {}
        self._lock = threading.Lock()  # several data types may load at once

    def get(self, dataset: str, table: str, loading: Struct | None = None) -> Struct | None:
        """A copy of the table's schema, for a schema builder to grow in place; raises LoadError when the
        warehouse cannot be read. Given the schema of a load in flight (`loading`), the schema that load leaves
        once committed (the table is not read)."""
        if loading is not None:
            return mark_stored(copy.deepcopy(loading))
        return copy.deepcopy(self.stored(dataset, table))

    def stored(self, dataset: str, table: str) -> Struct | None:
        """The table's schema as it stands, to reconcile with (never to change); raises LoadError when the
        warehouse cannot be read."""
        with self._lock:
            known = self._known.get((dataset, table), _UNKNOWN)
        if known is _UNKNOWN:
            known = self.warehouse.table_schema(dataset, table)
            with self._lock:
                self._known[(dataset, table)] = known  # type: ignore[assignment]
        return known  # type: ignore[return-value]

    def large_ints(self, dataset: str, table: str, name: str) -> bool:
        """Whether the table's INT64 column `name` holds an integer beyond 2^53 (which FLOAT64 would change):
        asked of the warehouse once, then remembered in the schema (a committed load keeps it current)."""
        known = self.stored(dataset, table)
        col = known.get(name) if known is not None else None
        if col is None:
            raise LoadError(f"{dataset}.{table} has no column {name} to ask about")
        if col.large_ints is None:
            col.large_ints = self.warehouse.largest_integer(dataset, table, col) > FLOAT_EXACT
        return col.large_ints

    def loaded(self, dataset: str, table: str, schema: Struct) -> None:
        """A load into the table committed with `schema` (the batch's, reconciled): that is the table's schema
        now, all of it stored (marked so in place: the batch's later halves have no change left to make)."""
        with self._lock:
            self._known[(dataset, table)] = mark_stored(schema)

    def unsure(self, dataset: str, table: str) -> None:
        """A load failed: it may have changed the table in part (BigQuery's schema changes are not
        transactional), so the next use reads it again."""
        with self._lock:
            self._known.pop((dataset, table), None)
