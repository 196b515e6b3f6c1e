"""`ingestor fetch`: pull what is new from the services' APIs into the landing zone.

Exit codes: 0 every data type fetched or up to date; 1 a data type failed (the reason is
in the result); 2 bad invocation or configuration. A service that cannot be fetched (not
configured, disabled, its plugin broken) is said on stderr with exit 2; the others still fetch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated

import typer

from ingestor.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    check_request,
    fail,
    load_plugins,
    load_settings,
)
from ingestor.options import Bucket, DataDir, DataTypes, Env, JsonOutput, Landing, LogFormat, LogLevel, Service

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

    from ingestor.fetching import FetchRequest, FetchResult
    from ingestor.service import Fetcher
    from ingestor.service import Service as Declared


def fetch_command(
    service: Service = None,
    data_types: DataTypes = None,
    days: Annotated[int | None, typer.Option(min=1, help="Backfill the last N days (ignores bookmarks).")] = None,
    since: Annotated[str | None, typer.Option(help="Backfill from this day, YYYY-MM-DD (ignores bookmarks).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N records per data type.")] = None,
    landing: Landing = None,
    env: Env = None,
    bucket: Bucket = None,
    data_dir: DataDir = None,
    dry_run: Annotated[
        bool | None, typer.Option("--dry-run", help="Call the APIs, write no file and no bookmark.")
    ] = None,
    log_level: LogLevel = None,
    log_format: LogFormat = None,
    json_output: JsonOutput = None,
) -> None:
    """Fetch new data of the given service(s) into the landing zone (incremental by default)."""
    options = {name: value for name, value in locals().items() if name not in ("days", "since", "limit")}
    settings = load_settings(**options)
    if days is not None and since is not None:
        fail("give --days or --since, not both")
    start = _parse_day(since) if since is not None else None
    from ingestor.extras import MissingExtra, import_optional

    try:
        import_optional("ingestor.fetching", "fetch", "ingestor fetch")  # httpx/tenacity come with the fetch plugins
    except MissingExtra as error:
        fail(str(error))
    from ingestor.fetching import FetchRequest
    from ingestor.landing import open_landing
    from ingestor.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    plugins = load_plugins(settings)
    check_request(plugins, settings.service, settings.data_types)
    try:
        target = open_landing(settings.landing_url, settings)
    except ValueError as error:
        fail(str(error))
    results: list[FetchResult] = []
    code = EXIT_OK
    try:
        for name in settings.service:
            asked = partial(
                FetchRequest,
                data_types=settings.data_types,
                since=start,
                days=days,
                limit=limit,
                dry_run=settings.dry_run,
                landing=target,
                http=settings.http,
            )
            why = plugins.unavailable(name)
            produced = why or _fetch_service(plugins.services[name], asked)
            if isinstance(produced, str):  # not fetched: exit 2, the other services still fetch
                typer.echo(f"Error: {produced}", err=True)
                code = EXIT_USAGE
                continue
            results.append(produced)
            if not produced.success and code == EXIT_OK:
                code = EXIT_FAILED
    finally:
        target.close()
    _print(results, bool(settings.json_output))
    raise typer.Exit(code)


def _fetch_service(service: Declared, asked: Callable[..., FetchRequest]) -> FetchResult | str:
    """Fetch one service: its fetcher and settings loaded, the request made with those settings (`asked`), the
    fetcher called; or why it could not run (a configuration or installation problem)."""
    from ingestor.errors import plugin_error
    from ingestor.fetching import ConfigError, failed_result
    from ingestor.service import WrongKind

    name = service.name
    try:
        fetcher = service.load_fetcher()
    except WrongKind as error:
        return str(error)
    except Exception as error:  # its module does not import, or lacks the name
        return f"the fetcher of {name} could not be loaded: {plugin_error(error, service.fetcher)}"
    if fetcher is None:
        return f"the {name} plugin has no fetcher"
    own = _service_settings(service)
    if isinstance(own, str):
        return f"{name}: {own}"
    request = asked(settings=own)
    try:
        produced = _call(name, fetcher, request)
    except ConfigError as error:
        return f"{name}: {error}"
    if isinstance(produced, str):  # a fetcher's bug: this service fails, the others still fetch
        typer.echo(f"Error: {produced}", err=True)
        return failed_result(name, request, [dt.name for dt in service.data_types], produced)
    return produced


def _service_settings(service: Declared) -> BaseSettings | str | None:
    """The service's own settings, built here from the environment and `.env`, or why they cannot be (the
    message names the variables, never their values)."""
    from pydantic import ValidationError

    from ingestor.errors import plugin_error, problems
    from ingestor.service import WrongKind

    try:
        kind = service.load_settings()
        return kind() if kind is not None else None
    except ValidationError as error:
        return f"invalid configuration: {problems(error)}"
    except WrongKind as error:
        return str(error)
    except Exception as error:  # its module does not import, lacks the name, or building it failed
        return f"the settings of {service.name} could not be loaded: {plugin_error(error, service.settings)}"


def _call(name: str, fetcher: Fetcher, request: FetchRequest) -> FetchResult | str:
    """What the fetcher of `name` returned, or why it gave no result (a ConfigError goes up)."""
    from ingestor.errors import plugin_error
    from ingestor.fetching import ConfigError, FetchResult

    try:
        returned: object = fetcher(request)
    except ConfigError:
        raise
    except Exception as error:  # the plugin's own code may raise anything: that fetcher alone fails
        return f"the fetcher of {name} raised {plugin_error(error, fetcher)}"
    if isinstance(returned, FetchResult):
        return returned
    return f"the fetcher of {name} returned {type(returned).__name__}; expected a FetchResult"


def _parse_day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r} is not a date (YYYY-MM-DD)")
    if day > datetime.now(UTC).date():
        fail(f"--since {value} is in the future")
    return day


def _print(results: list[FetchResult], as_json: bool) -> None:
    if as_json:
        import orjson

        payload = {"success": all(r.success for r in results), "services": [r.model_dump(mode="json") for r in results]}
        typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    for result in results:
        mode = " (dry run)" if result.dry_run else ""
        typer.echo(f"{result.service}{mode} -> {result.landing}")
        previous_error = None
        for item in result.data_types:
            line = f"  {item.data_type:<24} {item.status.value:<11} {len(item.files)} file(s), {item.records} record(s)"
            if item.error:
                line += ": (the same)" if item.error == previous_error else f": {item.error}"
            previous_error = item.error
            typer.echo(line)
            for file in item.files:
                typer.echo(f"      {file}")
            for note in item.notes:
                typer.echo(f"      note: {note}")
        if not result.data_types:
            typer.echo("  nothing requested")
