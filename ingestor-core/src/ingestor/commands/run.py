"""`ingestor run`: load every landing file of the given service(s), then archive or reject it.

Results go to stdout (`--json` for machines), logs to stderr; exit codes in ingestor.commands.common. A SIGTERM
(Cloud Run stopping the task) or Ctrl-C unwinds the run (see ingestor.run.stopping): the warehouse transaction in
flight rolls back or commits, the lease is released, and the next run finishes the rest (exit 143, or 130).
A service named that is installed but cannot be used (disabled, or its plugin is broken) fails alone: its
outcome says why, the other services run, and the run exits 1.
"""

from __future__ import annotations

import sys
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
    views_of,
)
from ingestor.options import (
    Bucket,
    DataDir,
    DataTypes,
    Env,
    JsonOutput,
    Landing,
    LogFormat,
    LogLevel,
    MetricsFile,
    MetricsPush,
    Notify,
    NotifyOn,
    Service,
)
from ingestor.run import stopping

if TYPE_CHECKING:
    from ingestor.ops.status import Status
    from ingestor.plugins import Plugins
    from ingestor.result import IngestResult
    from ingestor.settings import Settings


def run(
    service: Service = None,
    env: Env = None,
    data_types: DataTypes = None,
    dry_run: Annotated[
        bool | None, typer.Option("--dry-run", help="Read and validate, print the plan, write nothing.")
    ] = None,
    landing: Landing = None,
    warehouse: Annotated[
        str | None, typer.Option(help="Warehouse: duckdb:///path.duckdb or bigquery://project.")
    ] = None,
    bucket: Bucket = None,
    data_dir: DataDir = None,
    log_level: LogLevel = None,
    log_format: LogFormat = None,
    json_output: JsonOutput = None,
    notify: Notify = None,
    notify_on: NotifyOn = None,
    metrics_push: MetricsPush = None,
    metrics_file: MetricsFile = None,
) -> None:
    """Load every landing file of the given service(s), then archive or reject it."""
    settings = load_settings(**{**locals(), "notify": notify or None})  # every option is a setting
    from ingestor.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    plugins = load_plugins(settings)
    catalog = plugins.catalog
    check_request(plugins, settings.service, settings.data_types)
    from ingestor import ops
    from ingestor.errors import ENVIRONMENT, cause
    from ingestor.run.lease import LeaseBusy

    ops.check_extras(settings)
    retries_before = ops.retries_so_far(settings)

    try:
        with stopping.honoured():
            result, status = _execute(settings, plugins)
    except LeaseBusy as error:
        fail(f"busy: {error}", EXIT_BUSY)
    except stopping.Terminated:
        fail("stopped by SIGTERM: the run ended early; the next run finishes what is left", EXIT_TERMINATED)
    except typer.Exit:
        raise
    except ENVIRONMENT as error:  # the machine's, outside any one file (a landing disk too full for the lease): said
        ops.after_crash(settings, error)
        fail(f"the run stopped: {cause(error)}; what it did not settle stays in landing for the next run", EXIT_FAILED)
    except Exception as error:  # an unexpected failure of the whole run: said, then raised as ever
        ops.after_crash(settings, error)
        raise
    ops.after_run(settings, result, status, retries_before)
    if settings.json_output and sys.stdout.isatty():  # indented for a person
        typer.echo(result.model_dump_json(indent=2))
    elif settings.json_output:  # one line for a log collector or a pipe, in pieces (a backlog's is ~300 bytes a file)
        for piece in result.json_pieces():
            typer.echo(piece, nl=False)
        typer.echo()
    else:
        from ingestor.ops.report import print_result

        print_result(result, catalog)
    raise typer.Exit(EXIT_OK if result.success else EXIT_FAILED)


def _execute(settings: Settings, plugins: Plugins) -> tuple[IngestResult, Status | None]:
    """The run, and the state after it (for metrics and notifications), read before the landing zone and the
    warehouse are closed."""
    from ingestor import ops
    from ingestor.ops.report import progress
    from ingestor.run.context import RunContext
    from ingestor.run.engine import run as run_engine

    if settings.task_index >= settings.task_count:
        fail(f"task index {settings.task_index} is not below the task count {settings.task_count}")
    landing, warehouse = open_stores(settings)
    show = sys.stderr.isatty() and settings.log_format == "text"
    unavailable = {s: why for s in settings.service if (why := plugins.unavailable(s)) is not None}
    try:
        with progress(show) as on_file:
            context = RunContext(
                env=settings.env,
                landing=landing,
                warehouse=warehouse,
                catalog=plugins.catalog,
                settings=settings,
                data_types=set(settings.data_types) if settings.data_types else None,
                dry_run=settings.dry_run,
                views=views_of(plugins, settings),
                task_index=settings.task_index,
                task_count=settings.task_count,
                history_dataset=None if settings.dry_run else settings.history_dataset_name,
                on_file=on_file,
            )
            result = run_engine(context, settings.service, unavailable)
        return result, ops.state_after_run(settings, result, plugins.catalog, landing, warehouse)
    finally:
        warehouse.close()
        landing.close()
