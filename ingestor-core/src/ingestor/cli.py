"""The `ingestor` command: the Typer app, assembled from `ingestor.commands` (one module per command).

Results go to stdout (`--json` for machines), logs to stderr. Exit codes: 0 every file loaded or nothing to do;
1 a file was rejected or failed; 2 bad invocation or configuration; 75 busy: another run holds the service's
lease or the DuckDB file (see lease.py; nothing was changed, try again later); 130 interrupted; 143 stopped by
SIGTERM (the warehouse transaction in flight rolled back or committed; the next run finishes the rest).
"""

from __future__ import annotations

import typer

from ingestor.commands import demo, fetch, new_plugin, plugins, rebuild, run, seed, status
from ingestor.commands.common import EXIT_TERMINATED
from ingestor.run import stopping

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback(invoke_without_command=True)(seed.seed_form)
app.command()(run.run)
app.command()(rebuild.rebuild)
app.command("list-types")(plugins.list_types)
app.command()(plugins.plugins)
app.command()(demo.demo)
app.command("new-plugin")(new_plugin.new_plugin)
app.command("fetch")(fetch.fetch_command)
app.command("status")(status.status_command)


def main() -> None:
    """Entry point of the `ingestor` script. A SIGTERM is honoured from here on, start-up included (exit 143),
    and a stopped command's process ends within `stopping.GRACE` whatever its threads are stuck in."""
    stopping.at_start()
    try:
        app()
    except stopping.Terminated:  # outside a run's own handling: during start-up (plugins, settings) or after
        typer.echo("Error: stopped by SIGTERM", err=True)
        stopping.leave(EXIT_TERMINATED)
    except SystemExit as done:
        stopping.leave(done.code)
