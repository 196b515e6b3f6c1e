"""The seed system's form, without a sub-command: `ingestor --service S --env E [--data-types a,b] [--dry-run]`
is `run`, and `ingestor --list-types` is `list-types` (what its workflows and job definitions already call)."""

from __future__ import annotations

from typing import Annotated

import typer

from ingestor.commands.common import fail
from ingestor.commands.plugins import list_types
from ingestor.commands.run import run
from ingestor.options import DataTypes, Env, Service


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
