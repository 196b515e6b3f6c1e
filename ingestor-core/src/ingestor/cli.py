"""The `ingestor` command. Results go to stdout (`--json` for machines), logs to stderr.

Exit codes: 0 every file loaded or nothing to do; 1 a file was rejected or failed;
2 bad invocation or configuration; 75 busy: another run holds the service's lease or the DuckDB
file (see lease.py; nothing was changed, try again later); 130 interrupted; 143 stopped by SIGTERM
(the warehouse transaction in flight rolled back or committed; the next run finishes the rest).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

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

if TYPE_CHECKING:
    from ingestor.plugins import Plugins
    from ingestor.result import IngestResult
    from ingestor.settings import Settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BUSY, EXIT_TERMINATED = 75, 143


class Terminated(BaseException):
    """SIGTERM arrived (Cloud Run stopping the task): unwinds the run like Ctrl-C, past `except Exception`."""


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the block runs, the first SIGTERM raises Terminated (later ones are ignored, so cleanup ends)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print an error to stderr and exit."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _plugins() -> Plugins:
    from ingestor.plugins import PluginError, current_plugins

    try:
        return current_plugins()
    except PluginError as error:
        fail(str(error))


def _settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from ingestor.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        fail(f"invalid configuration: {problems}")


def _refuse_disabled(plugins: Plugins, services: list[str]) -> None:
    """Exit 2 if a service asked for is disabled (two distributions declare it)."""
    for service in services:
        if service in plugins.disabled:
            fail(f"service {service!r} is disabled: {plugins.disabled[service]} (see `ingestor plugins`)")


def check_request(plugins: Plugins, services: list[str], data_types: list[str] | None) -> None:
    """Exit 2 with a helpful message for unknown or disabled services, or data types of another service."""
    catalog = plugins.catalog
    installed = catalog.services()
    if not services:
        fail(f"no --service given; installed services: {', '.join(installed) or 'none (install a plugin)'}")
    _refuse_disabled(plugins, services)
    for service in services:
        if service not in installed:
            fail(
                f"unknown service {service!r}; installed services: {', '.join(installed) or 'none (install a plugin)'}"
            )
    for name in data_types or []:
        if any(catalog.get(s, name) for s in services):
            continue
        owners = [s for s in installed if catalog.get(s, name)]
        if owners:
            fail(f"data type {name!r} belongs to {', '.join(owners)}, not to {', '.join(services)}")
        known = ", ".join(dt.name for s in services for dt in catalog.types(s))
        fail(f"unknown data type {name!r} for {', '.join(services)}; known: {known}")


@app.command()
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
    settings = _settings(
        service=service,
        env=env,
        data_types=data_types,
        dry_run=dry_run,
        landing=landing,
        warehouse=warehouse,
        bucket=bucket,
        data_dir=data_dir,
        log_level=log_level,
        log_format=log_format,
        json_output=json_output,
        notify=notify or None,
        notify_on=notify_on,
        metrics_push=metrics_push,
        metrics_file=metrics_file,
    )
    from ingestor.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    plugins = _plugins()
    catalog = plugins.catalog
    check_request(plugins, settings.service, settings.data_types)
    from ingestor import ops
    from ingestor.lease import LeaseBusy
    from ingestor.metrics import retries

    ops.check_extras(settings)
    retries_before = retries()

    try:
        with _sigterm_unwinds():
            result = _execute(settings, plugins)
    except LeaseBusy as error:
        fail(f"busy: {error}", EXIT_BUSY)
    except Terminated:
        fail("stopped by SIGTERM: the run ended early; the next run finishes what is left", EXIT_TERMINATED)
    except typer.Exit:
        raise
    except Exception as error:  # an unexpected failure of the whole run: said, then raised as ever
        ops.after_crash(settings, error)
        raise
    ops.after_run(settings, result, catalog, retries_before)
    if settings.json_output:  # indented for a person, one line for a log collector or a pipe
        typer.echo(result.model_dump_json(indent=2 if sys.stdout.isatty() else None))
    else:
        from ingestor.report import print_result

        print_result(result)
    raise typer.Exit(EXIT_OK if result.success else EXIT_FAILED)


@app.callback(invoke_without_command=True)
def seed_form(
    ctx: typer.Context,
    service: Service = None,
    env: Env = None,
    data_types: DataTypes = None,
    dry_run: Annotated[bool | None, typer.Option("--dry-run", help="With --service: as `run --dry-run`.")] = None,
    list_types_: Annotated[bool, typer.Option("--list-types", help="As `list-types`.")] = False,
) -> None:
    """Load landing-zone NDJSON files into a warehouse, exactly once.

    The seed system's form, without a sub-command: `--service S --env E [--data-types a,b] [--dry-run]` is `run`.

    `--list-types` is `list-types`. Other settings come from the environment; `run` is the main form.
    """
    given = service is not None or env is not None or data_types is not None or dry_run is not None or list_types_
    if ctx.invoked_subcommand is not None:
        if given:
            fail(f"put the options after the sub-command: ingestor {ctx.invoked_subcommand} --service ...")
        return
    if list_types_:
        if data_types is not None or dry_run is not None:
            fail("--list-types takes only --service and --env")
        list_types(service=service, json_output=False, env=env or "dev")
        return
    run(service=service, env=env, data_types=data_types, dry_run=dry_run)


def _execute(settings: Settings, plugins: Plugins) -> IngestResult:
    from ingestor.context import RunContext
    from ingestor.engine import run as run_engine
    from ingestor.landing import open_landing
    from ingestor.lease import open_warehouse  # waits up to INGESTOR_LEASE_WAIT for a busy DuckDB file
    from ingestor.report import progress
    from ingestor.warehouse import LoadError

    try:
        landing = open_landing(settings.landing_url, settings)
        warehouse = open_warehouse(settings.warehouse_url, settings, read_only=settings.dry_run)
    except (ValueError, LoadError) as error:
        fail(str(error))
    if settings.task_index >= settings.task_count:
        fail(f"task index {settings.task_index} is not below the task count {settings.task_count}")
    show = sys.stderr.isatty() and settings.log_format == "text"
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
                views=plugins.views,
                task_index=settings.task_index,
                task_count=settings.task_count,
                history_dataset=None if settings.dry_run else settings.history_dataset_name,
                on_file=on_file,
            )
            return run_engine(context, settings.service, plugins.pm.hook.ingest)
    finally:
        warehouse.close()
        landing.close()


@app.command("list-types")
def list_types(
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Full declarations as JSON.")] = False,
    env: Annotated[str, typer.Option(help="Environment used to render table names.")] = "dev",
) -> None:
    """List the data types the installed plugins provide, by service, with their tables."""
    loaded = _plugins()
    catalog = loaded.catalog
    _refuse_disabled(loaded, [service] if service else [])
    if service and service not in catalog.services():
        fail(f"unknown service {service!r}; installed services: {', '.join(catalog.services()) or 'none'}")
    types = catalog.types(service)
    if json_output:
        import orjson

        payload = [
            {**dt.model_dump(mode="json"), "target": f"{dt.dataset_for(env)}.{dt.table_for(env)}"} for dt in types
        ]
        typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    from ingestor.report import print_types

    print_types(catalog, types, env)


@app.command()
def plugins(
    json_output: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a plugin has a problem.")] = False,
) -> None:
    """List installed plugins (distribution, version, hooks, services, data types) and every problem."""
    loaded = _plugins()
    by_distribution: dict[str, dict[str, Any]] = {}  # a distribution may register several entry points
    for plugin in loaded.plugins:
        row = by_distribution.setdefault(
            plugin.distribution,
            {"name": [], "distribution": plugin.distribution, "version": plugin.version, "hooks": [], "services": [],
             "data_types": 0, "problems": []},
        )  # fmt: skip
        row["name"] = sorted([*row["name"], plugin.name])
        row["hooks"] = sorted({*row["hooks"], *plugin.hooks})
        row["services"] = sorted({*row["services"], *(s.name for s in plugin.services)})
        row["data_types"] += sum(len(s.data_types) for s in plugin.services)
        row["problems"] += plugin.problems
    rows = list(by_distribution.values())
    rows.sort(key=lambda r: (r["distribution"] != "ingestor-core", r["distribution"]))
    if json_output:
        import orjson

        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    else:
        from ingestor.report import print_plugins

        print_plugins(rows)
        for problem in loaded.problems:
            typer.echo(f"problem: {problem}")
    if check and loaded.problems:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def demo(
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only these services, comma-separated.")
    ] = None,
    env: Annotated[str, typer.Option(help="Environment (names the default bucket folder).")] = "dev",
    days: Annotated[int, typer.Option(min=1, max=366, help="Days of history to generate.")] = 21,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed writes the same files.")] = 7,
    landing: Annotated[str | None, typer.Option(help="Landing zone to write into (default: the embedded one).")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Folder of the embedded default.")] = None,
) -> None:
    """Write a realistic demo landing zone for the installed services."""
    from ingestor.landing import open_landing
    from ingestor.plugins import describe

    settings = _settings(env=env, landing=landing, data_dir=data_dir, service=service)
    loaded = _plugins()
    try:
        target = open_landing(settings.landing_url, settings)
    except ValueError as error:
        fail(str(error))
    written, code = 0, EXIT_OK
    for name, declared in loaded.services.items():
        if declared.demo is None or (settings.service and name not in settings.service):
            continue
        try:
            make = declared.load_demo()
            files = make(days, seed) if make else {}
            outside = [f for f in files if not f.startswith(f"{name}/landing/")]
            if outside:
                raise ValueError(f"{outside[0]!r} is not under {name}/landing/")
        except Exception as error:
            typer.echo(f"Error: the demo of {name} failed: {describe(error)}", err=True)
            code = EXIT_FAILED
            continue
        for object_name, content in sorted(files.items()):
            target.write(object_name, content)
            written += 1
    typer.echo(f"wrote {written} demo files to {target.url}")
    raise typer.Exit(code)


@app.command("new-plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="The service's name: lower-case letters, digits and _.")],
    directory: Annotated[str, typer.Option(help="Where to create the package folder ingestor-NAME.")] = ".",
) -> None:
    """Create a working plugin package: a service with two data types, a demo, and tests."""
    from pathlib import Path

    from ingestor.scaffold import new_plugin as scaffold

    try:
        target = scaffold(name, Path(directory))
    except (ValueError, FileExistsError) as error:
        fail(str(error))
    typer.echo(f"created {target}: pip install -e '{target}[test]' && pytest {target}")


from ingestor.fetch_cli import fetch_command  # noqa: E402  (registered here, written in its own module)

app.command("fetch")(fetch_command)

from ingestor.status_cli import status_command  # noqa: E402

app.command("status")(status_command)


def main() -> None:
    """Entry point of the `ingestor` script."""
    app()
