"""`ingestor rebuild`: build a service's tables again from its archive, each replaced in one atomic step (see
ingestor.rebuild).

Results go to stdout (`--json` for machines), logs to stderr. Exit codes as `ingestor run`'s: 0 every table
rebuilt (or planned) with every archived file; 1 a table not rebuilt, or an archived file the plugin now rejects
(its rows are carried over); 2 bad invocation; 75 busy (a run holds the service's lease or the DuckDB file);
143 stopped by SIGTERM (the table being replaced is as it was, or rebuilt).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ingestor.commands.common import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TERMINATED,
    check_request,
    fail,
    load_plugins,
    load_settings,
    open_stores,
    refuse_unavailable,
    views_of,
)
from ingestor.options import Bucket, DataDir, DataTypes, Env, JsonOutput, Landing, LogFormat, LogLevel, Warehouse
from ingestor.run import stopping

if TYPE_CHECKING:
    from ingestor.plugins import Plugins
    from ingestor.rebuild.result import RebuildResult
    from ingestor.settings import Settings


def rebuild(
    service: Annotated[str | None, typer.Option("--service", "-s", help="The service. [env: INGESTOR_SERVICE]")] = None,
    env: Env = None,
    data_types: DataTypes = None,
    dry_run: Annotated[
        bool | None, typer.Option("--dry-run", help="Read the archive, print the plan, write nothing.")
    ] = None,
    landing: Landing = None,
    warehouse: Warehouse = None,
    bucket: Bucket = None,
    data_dir: DataDir = None,
    log_level: LogLevel = None,
    log_format: LogFormat = None,
    json_output: JsonOutput = None,
) -> None:
    """Build a service's tables again from its archive/, each replaced atomically (the old one kept as a backup)."""
    settings = load_settings(**locals())
    from ingestor.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    plugins = load_plugins(settings)
    check_request(plugins, settings.service, settings.data_types)
    if len(settings.service) != 1:
        fail("rebuild one service at a time: --service S")
    refuse_unavailable(plugins, settings.service)
    from ingestor.run.lease import LeaseBusy

    try:
        with stopping.honoured():
            result = _execute(settings, plugins)
    except LeaseBusy as error:
        fail(f"busy: {error}", EXIT_BUSY)
    except stopping.Terminated:
        fail("stopped by SIGTERM: each table is as it was, or rebuilt; rebuild again to finish", EXIT_TERMINATED)
    if settings.json_output:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from ingestor.rebuild.report import print_rebuild

        print_rebuild(result)
    raise typer.Exit(EXIT_OK if result.success else EXIT_FAILED)


def _execute(settings: Settings, plugins: Plugins) -> RebuildResult:
    from ingestor.rebuild import rebuild as rebuild_service
    from ingestor.run.context import RunContext

    landing, store = open_stores(settings)
    try:
        context = RunContext(
            env=settings.env,
            landing=landing,
            warehouse=store,
            catalog=plugins.catalog,
            settings=settings,
            data_types=set(settings.data_types) if settings.data_types else None,
            dry_run=settings.dry_run,
            views=views_of(plugins, settings),
        )
        return rebuild_service(context, settings.service[0])
    finally:
        store.close()
        landing.close()
