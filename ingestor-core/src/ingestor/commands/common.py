"""What every command shares: exit codes, `fail`, and the edge where settings and plugins are built.

Exit codes: 0 every file loaded or nothing to do; 1 a file was rejected or failed, or the run's history could not
be written; 2 bad invocation or configuration; 75 busy: another run holds the service's lease or the DuckDB file
(see ingestor.run.lease; nothing was changed, try again later); 130 interrupted; 143 stopped by SIGTERM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from ingestor.catalog import View
    from ingestor.landing import Landing
    from ingestor.plugins import Plugins
    from ingestor.run.latest import LatestView
    from ingestor.settings import Settings
    from ingestor.warehouse import Warehouse

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BUSY, EXIT_TERMINATED = 75, 143


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print an error to stderr and exit."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """The configuration tree: the flags given (None: not given), then the environment and `.env`; exit 2 when
    it is invalid."""
    from pydantic import ValidationError

    from ingestor.errors import problems
    from ingestor.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        fail(f"invalid configuration: {problems(error)}")


def load_plugins(settings: Settings | None, warn: bool = True) -> Plugins:
    """The plugins `settings.plugins` asks for (None: the plugin settings alone, read from the environment without
    the tree, as `list-types` needs nothing else); exit 2 on a problem in strict mode. `warn`: log each problem."""
    from pydantic import ValidationError

    from ingestor.environment import PluginSettings
    from ingestor.errors import problems
    from ingestor.plugins import PluginError, current_plugins

    try:
        group = settings.plugins if settings is not None else PluginSettings.from_environment()
        return current_plugins(group, warn)
    except ValidationError as error:
        fail(f"invalid configuration: {problems(error)}")
    except PluginError as error:
        fail(str(error))


def refuse_unavailable(plugins: Plugins, services: list[str]) -> None:
    """Exit 2 if a service asked for is installed but cannot be used (disabled, or its plugin is broken)."""
    for service in services:
        why = plugins.unavailable(service)
        if why is not None:
            fail(f"{why} (see `ingestor plugins`)")


def check_services(plugins: Plugins, services: list[str]) -> None:
    """Exit 2 if a service asked for is one no installed plugin declares (a disabled one, or one whose plugin is
    broken, is the caller's to refuse: in a run of several, it fails alone)."""
    installed = plugins.catalog.services()
    for service in services:
        if service not in installed and plugins.unavailable(service) is None:
            failed = plugins.failed_to_declare
            broken = f"; these plugins failed to load: {', '.join(failed)}" if failed else ""
            listed = ", ".join(installed) or "none (install a plugin)"
            fail(f"unknown service {service!r}; installed services: {listed}{broken}")


def check_request(plugins: Plugins, services: list[str], data_types: list[str] | None) -> None:
    """Exit 2 with a helpful message for no service or an unknown one, or data types of another service."""
    catalog = plugins.catalog
    installed = catalog.services()
    if not services:
        fail(f"no --service given; installed services: {', '.join(installed) or 'none (install a plugin)'}")
    check_services(plugins, services)
    working = [s for s in services if s in installed]
    for name in data_types or []:
        if any(catalog.get(s, name) for s in working):
            continue
        owners = [s for s in installed if catalog.get(s, name)]
        if owners:
            fail(f"data type {name!r} belongs to {', '.join(owners)}, not to {', '.join(services)}")
        if len(working) < len(services):
            continue  # maybe a type of the service that cannot be used: it fails alone
        known = ", ".join(dt.name for s in services for dt in catalog.types(s))
        fail(f"unknown data type {name!r} for {', '.join(services)}; known: {known}")


def open_stores(settings: Settings) -> tuple[Landing, Warehouse]:
    """The landing zone and the warehouse a run or a rebuild works on (the warehouse waits up to
    INGESTOR_LEASE_WAIT for a busy DuckDB file); a bad URL fails the command. The memory budget is logged."""
    import logging

    from ingestor.landing import open_landing
    from ingestor.run.lease import open_warehouse
    from ingestor.warehouse import LoadError

    try:
        landing = open_landing(settings.landing_url, settings)
        warehouse = open_warehouse(settings.warehouse_url, settings, read_only=settings.dry_run)
    except (ValueError, LoadError) as error:
        fail(str(error))
    logging.getLogger("ingestor.run").info("%s", settings.budget.describe())
    return landing, warehouse


def views_of(plugins: Plugins, settings: Settings) -> list[View | LatestView]:
    """The views a run or a rebuild keeps current: the plugins', and a latest view per data type with a key
    (unless INGESTOR_LATEST_VIEWS is off)."""
    from ingestor.run.latest import latest_views

    return [*plugins.views, *(latest_views(plugins.catalog) if settings.latest_views else [])]
