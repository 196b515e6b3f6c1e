"""`ingestor status`: freshness, backlog and rejections per data type, read from the run history and the landing
zone; it never moves or loads.

Exit codes: 0 every data type fresh and nothing in rejected/; 1 a data type stale or a file in rejected/;
2 bad invocation or configuration; 75 the DuckDB file is held by a run (set INGESTOR_LEASE_WAIT to wait).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ingestor import options as opt
from ingestor.commands.common import (
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_OK,
    check_request,
    fail,
    load_plugins,
    load_settings,
    refuse_unavailable,
)


def status_command(
    service: opt.Service = None,
    env: opt.Env = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="Days of rows per day to show.")] = 30,
    html: Annotated[Path | None, typer.Option(help="Also write a self-contained HTML page to this path.")] = None,
    landing: opt.Landing = None,
    warehouse: opt.Warehouse = None,
    bucket: opt.Bucket = None,
    data_dir: opt.DataDir = None,
    notify: opt.Notify = None,
    notify_on: opt.NotifyOn = None,
    metrics_push: opt.MetricsPush = None,
    metrics_file: opt.MetricsFile = None,
    log_level: opt.LogLevel = None,
    log_format: opt.LogFormat = None,
    json_output: opt.JsonOutput = None,
) -> None:
    """Per data type: the newest file loaded, rows per day, files waiting in landing or rejected, freshness."""
    options = {name: value for name, value in locals().items() if name not in ("days", "html")}  # the settings
    settings = load_settings(**options)
    from ingestor.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    plugins = load_plugins(settings)
    catalog = plugins.catalog
    services = settings.service or catalog.services()
    check_request(plugins, services, None)
    refuse_unavailable(plugins, services)
    from ingestor import ops
    from ingestor.landing import open_landing
    from ingestor.ops.status import collect, print_status
    from ingestor.run.lease import LeaseBusy, open_warehouse
    from ingestor.warehouse import LoadError

    ops.check_extras(settings)
    try:
        source = open_landing(settings.landing_url, settings)
        store = open_warehouse(settings.warehouse_url, settings, read_only=True)
    except LeaseBusy as error:
        fail(f"busy: {error}", EXIT_BUSY)
    except (ValueError, LoadError) as error:
        fail(str(error))
    try:
        status = collect(catalog, services, source, store, settings.history_dataset_name, settings.env, days)
    finally:
        store.close()
        source.close()
    if html is not None:
        from ingestor.ops.page import render

        try:
            html.write_text(render(status), encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {html}: {error.strerror}")
    ops.after_status(settings, status)
    if settings.json_output:
        typer.echo(status.model_dump_json(indent=2 if sys.stdout.isatty() else None))  # one line for a log collector
    else:
        print_status(status)
    raise typer.Exit(EXIT_OK if status.ok else EXIT_FAILED)
