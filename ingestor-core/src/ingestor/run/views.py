"""Refreshing a service's views (e.g. a legacy combined table) over the tables that exist, after its loads."""

from __future__ import annotations

import logging

from ingestor.catalog import View
from ingestor.result import TableLoad
from ingestor.run.tables import LiveSchemas
from ingestor.warehouse import Warehouse

log = logging.getLogger("ingestor.run.engine")


def refresh_views(
    service: str, env: str, views: list[View], warehouse: Warehouse, schemas: LiveSchemas, tables: list[TableLoad]
) -> None:
    """Recreate `service`'s views over the tables that exist; a view that cannot be refreshed is
    noted on every table of the run (`tables`)."""
    for view in views:
        if view.service != service:
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
