"""`ingestor demo`: a realistic demo landing zone, written by the installed services' demos.

Exit codes: 0 written; 1 a service's demo failed, or the service is installed but disabled or broken (the others
are written); 2 a service no installed plugin declares, or a bad option."""

from __future__ import annotations

from typing import Annotated

import typer

from ingestor.commands.common import EXIT_FAILED, EXIT_OK, check_services, fail, load_plugins, load_settings


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
    from ingestor.errors import plugin_error
    from ingestor.landing import open_landing

    settings = load_settings(env=env, landing=landing, data_dir=data_dir, service=service)
    loaded = load_plugins(settings)
    check_services(loaded, settings.service)  # unknown: exit 2
    try:
        target = open_landing(settings.landing_url, settings)
    except ValueError as error:
        fail(str(error))
    written, code = 0, EXIT_OK
    for name in settings.service or list(loaded.services):
        why = loaded.unavailable(name)
        if why is not None:  # installed but disabled or broken: it fails alone
            typer.echo(f"Error: no demo of {name}: {why}", err=True)
            code = EXIT_FAILED
            continue
        declared = loaded.services[name]
        if declared.demo is None:
            typer.echo(f"the {name} plugin has no demo", err=True)
            continue
        try:
            make = declared.load_demo()
            files = make(days, seed) if make else {}
            outside = [f for f in files if not f.startswith(f"{name}/landing/")]
            if outside:
                raise ValueError(f"{outside[0]!r} is not under {name}/landing/")
        except Exception as error:  # the plugin's own code may raise anything: that demo alone fails
            typer.echo(f"Error: the demo of {name} failed: {plugin_error(error, declared.demo)}", err=True)
            code = EXIT_FAILED
            continue
        for object_name, content in sorted(files.items()):
            target.write(object_name, content)
            written += 1
    typer.echo(f"wrote {written} demo files to {target.url}")
    raise typer.Exit(code)
