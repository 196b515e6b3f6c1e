"""What every command shares: exit codes, `fail`, and the edge where settings and plugins are built.

Exit codes: 0 every file loaded or nothing to do; 1 a file was rejected or failed, or the run's history could not
be written; 2 bad invocation or configuration; 75 busy: another run holds the service's lease or the DuckDB file
(see ingestor.lease; nothing was changed, try again later); 130 interrupted; 143 stopped by SIGTERM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from ingestor.plugins import Plugins
    from ingestor.settings import Settings

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


def load_plugins(settings: Settings) -> Plugins:
    """The plugins `settings.plugins` asks for; exit 2 on a problem in strict mode."""
    from ingestor.plugins import PluginError, current_plugins

    try:
        return current_plugins(settings.plugins)
    except PluginError as error:
        fail(str(error))


def refuse_disabled(plugins: Plugins, services: list[str]) -> None:
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
    refuse_disabled(plugins, services)
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
