"""Latest views by key: for each data type with a `primary_key`, a view `{table}__latest` beside its
table holding the newest row of each key: newest by the inserted-at column (the run's start), then
by the source file column (a later file name wins), then by a hash of the whole row, so rows alike
in all of those give the same row every time. A key column may be a field of a STRUCT column (`a.b`),
never an array or a field inside one.

The view is created after a run that loaded the type, if it is missing, and replaced when the run
changed the table's columns (a view binds its columns when it is created). `INGESTOR_LATEST_VIEWS=false`
turns them off (existing views are left as they are).

A key column the table lacks is the plugin's problem, never a broken view: `ingestor plugins --check`
reports a key column the data type does not declare (in `columns`, `schema_hints` or
`column_defaults`); a run skips the view of a table without its key columns and says so on that
type's result, and the other types go on."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ingestor.catalog import Catalog, DataType
from ingestor.names import validate_identifier
from ingestor.result import TableLoad
from ingestor.run.tables import LiveSchemas
from ingestor.schema import Kind, Struct
from ingestor.warehouse import Warehouse

SUFFIX = "__latest"
log = logging.getLogger("ingestor.run.engine")


@dataclass(frozen=True)
class LatestView:
    """The latest view of one data type (see the module's docstring)."""

    data_type: DataType

    @property
    def service(self) -> str:
        """The service whose runs refresh it."""
        return self.data_type.service

    def name_for(self, env: str) -> str:
        """The view's name: its table's, with `__latest`."""
        return validate_identifier(self.data_type.table_for(env) + SUFFIX, "view")


def latest_views(catalog: Catalog) -> list[LatestView]:
    """The latest view of each data type that declares a primary key."""
    return [LatestView(dt) for dt in catalog.types() if dt.primary_key]


def undeclared_key(dt: DataType) -> list[str]:
    """The primary key columns `dt` does not declare: not among its `columns`, `schema_hints`,
    `column_defaults` or metadata columns (a table has it only if some record happens to)."""
    declared = {c.name for c in dt.columns} | {hint.split(".")[0] for hint in dt.schema_hints}
    declared |= {*dt.column_defaults, dt.inserted_at_column, dt.source_file_column}
    known = {name.lower() for name in declared}
    return [key for key in dt.primary_key if key.split(".")[0].lower() not in known]


def key_problems(dt: DataType) -> list[str]:
    """A plugin problem for a primary key column `dt` does not declare (none: it declares them all)."""
    missing = undeclared_key(dt)
    if not missing:
        return []
    return [
        f"data type {dt.key}: primary key column(s) {', '.join(missing)} not declared (in columns, schema_hints "
        f"or column_defaults): a table whose records lack them gets no latest view"
    ]


def unusable_key(dt: DataType, schema: Struct) -> list[str]:
    """Why each primary key column of `dt` cannot key the rows of a table of `schema`, or its rows cannot
    be ordered (none: the view can be made)."""
    problems = [problem for key in dt.primary_key if (problem := _key_problem(schema, key))]
    for name in (dt.inserted_at_column, dt.source_file_column):
        if schema.get(name) is None:
            problems.append(f"the table has no {name} to order rows by")
    return problems


def _key_problem(schema: Struct, key: str) -> str | None:
    """Why `key` (a column, or a STRUCT's field `a.b`) cannot key rows of a table of `schema`; None if it can."""
    struct: Struct | None = schema
    column = None
    for part in key.split("."):
        column = struct.get(part) if struct is not None else None
        if column is None:
            return f"{key} is not a column"
        if column.repeated:
            return f"{key} is in an array"
        struct = column.fields
    if column is not None and column.kind in (Kind.STRUCT, Kind.JSON):
        return f"{key} is a {column.kind.value}, not a value"
    return None


def refresh_latest(view: LatestView, env: str, warehouse: Warehouse, schemas: LiveSchemas, table: TableLoad) -> None:
    """Create the view if missing, or replace it if this run changed its table's columns (`table`: what the
    run did to the type's table); a table without its key columns gets no view, and a note on `table`."""
    dt = view.data_type
    dataset, source, name = dt.dataset_for(env), dt.table_for(env), view.name_for(env)
    schema = schemas.get(dataset, source)
    if schema is None:
        return
    problems = unusable_key(dt, schema)
    if problems:
        message = (
            f"no latest view {dataset}.{name}: the primary key of {dt.key} does not fit {dataset}.{source} "
            f"({'; '.join(problems)}): a problem of its plugin (see `ingestor plugins --check`)"
        )
        log.warning(message)
        table.notes.append(message)
        return
    replace = table.created or bool(table.columns_added or table.columns_widened)
    newest = [dt.inserted_at_column, dt.source_file_column]
    if warehouse.ensure_latest_view(dataset, name, source, list(dt.primary_key), newest, replace):
        log.info("latest view %s.%s written", dataset, name)
