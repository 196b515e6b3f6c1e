"""Refreshing a service's views after its loads: the plugins' views (e.g. a legacy combined table) over
the tables that exist, and the latest view by key of each data type loaded (`ingestor.run.latest`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ingestor.catalog import View
from ingestor.result import TableLoad
from ingestor.run.latest import LatestView, refresh_latest
from ingestor.run.tables import LiveSchemas
from ingestor.warehouse import Warehouse

log = logging.getLogger("ingestor.run.engine")


def refresh_views(
    service: str,
    env: str,
    views: Sequence[View | LatestView],
    warehouse: Warehouse,
    schemas: LiveSchemas,
    tables: list[TableLoad],
) -> None:
    """Recreate `service`'s views over the tables that exist; a view that cannot be refreshed is
    noted on every table of the run (`tables`), a latest view on its own table's only."""
    by_type = {table.data_type: table for table in tables}
    for view in views:
        if view.service != service:
            continue
        if isinstance(view, LatestView):
            table = by_type.get(view.data_type.name)
            if table is not None:  # a type this run loaded
                _refresh_latest(view, env, warehouse, schemas, table)
            continue
        dataset, name = view.dataset.format(env=env), view.name.format(env=env)
        try:  # the tables read (a load that failed has them read again) and the view written
            sources = [
                (s.dataset.format(env=env), s.table.format(env=env), s.columns, s.constants)
                for s in view.sources
                if schemas.stored(s.dataset.format(env=env), s.table.format(env=env)) is not None
            ]
            if sources:
                warehouse.ensure_view(dataset, name, list(view.columns), sources)
        except Exception as error:  # a LoadError, or any error of the warehouse's client: only this view is stale
            message = f"view {dataset}.{name} could not be refreshed: {error}"
            log.error(message)
            for table in tables:
                table.notes.append(message)


def _refresh_latest(view: LatestView, env: str, warehouse: Warehouse, schemas: LiveSchemas, table: TableLoad) -> None:
    try:
        refresh_latest(view, env, warehouse, schemas, table)
    except Exception as error:
        message = f"latest view of {table.table} could not be refreshed: {error}"
        log.error(message)
        table.notes.append(message)
