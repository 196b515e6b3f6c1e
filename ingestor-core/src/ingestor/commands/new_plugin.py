"""`ingestor new-plugin NAME`: a working plugin package to start from (see ingestor.scaffold)."""

from __future__ import annotations

from typing import Annotated

import typer

from ingestor.commands.common import fail


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
