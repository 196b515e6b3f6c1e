"""`ingestor list-types` and `ingestor plugins`: what the installed plugins provide, and what is wrong with them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ingestor.commands.common import EXIT_FAILED, check_services, fail, load_plugins, load_settings, refuse_unavailable
from ingestor.options import LogLevel


def list_types(
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Full declarations as JSON.")] = False,
    env: Annotated[str, typer.Option(help="Environment used to render table names.")] = "dev",
) -> None:
    """List the data types the installed plugins provide, by service, with their tables."""
    from ingestor.names import InvalidIdentifier, validate_identifier

    try:  # the one setting of the tree it uses: the rest is not built (see ingestor.environment)
        validate_identifier(env, "environment")
    except InvalidIdentifier as error:
        fail(f"invalid configuration: env: Value error, {error}")  # as the tree says it
    loaded = load_plugins(None)
    catalog = loaded.catalog
    check_services(loaded, [service] if service else [])
    refuse_unavailable(loaded, [service] if service else [])
    types = catalog.types(service)
    if json_output:
        import orjson

        payload = [
            {**dt.model_dump(mode="json"), "target": f"{dt.dataset_for(env)}.{dt.table_for(env)}"} for dt in types
        ]
        typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    from ingestor.ops.report import print_types

    print_types(catalog, types, env)


def plugins(
    json_output: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a plugin has a problem.")] = False,
    log_level: LogLevel = None,
) -> None:
    """List installed plugins (distribution, version, hooks, services, data types) and every problem, once: what
    loading them found, and each fetcher, settings or demo reference that does not resolve (imported, not called)."""
    settings = load_settings(log_level=log_level)
    from ingestor.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)  # DEBUG: a plugin's exception with its traceback
    loaded = load_plugins(settings, warn=False)  # printed below, not logged as well
    loaded.check_references()
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
    rows.sort(key=lambda r: r["distribution"])
    if json_output:
        import orjson

        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    else:
        from ingestor.ops.report import print_plugins

        print_plugins(rows)
        for problem in loaded.problems:
            typer.echo(f"problem: {problem}")
    if check and loaded.problems:
        raise typer.Exit(EXIT_FAILED)
