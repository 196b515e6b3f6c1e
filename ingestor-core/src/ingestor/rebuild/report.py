"""`ingestor rebuild`'s result for a person: per data type the plan's figures and the columns' changes."""

from __future__ import annotations

import typer

from ingestor.rebuild.result import RebuildResult, TypeRebuild


def print_rebuild(result: RebuildResult) -> None:
    """Print each data type's rebuild (or plan) to stdout."""
    verb = "would rebuild" if result.dry_run else "rebuilt"
    typer.echo(f"{result.service}: {verb} from {result.landing}/{result.service}/archive/ into {result.warehouse}")
    for item in result.types:
        for line in _lines(item, result.dry_run):
            typer.echo(line)
    for name, why in result.skipped.items():
        typer.echo(f"  left alone: {name}: {why}")
    if not result.types:
        typer.echo("  nothing to rebuild: no table and no archived file")


def _lines(item: TypeRebuild, dry_run: bool) -> list[str]:
    state = "NOT REBUILT" if item.error else ("plan" if dry_run else "rebuilt")
    lines = [
        f"  {item.data_type} -> {item.table} [{state}]",
        f"    files in archive {item.files_in_archive}, never recorded {item.files_unrecorded}, "
        f"recovered {item.files_recovered} ({item.rows_recovered} rows)",
        f"    rows now {item.rows_before}, after {item.rows_after} "
        f"(rebuilt {item.rows_rebuilt}, carried over {item.rows_carried_over})",
    ]
    for label, columns in (
        ("added", item.columns_added),
        ("removed", item.columns_removed),
        ("retyped", item.columns_retyped),
    ):
        if columns:
            lines.append(f"    columns {label}: {', '.join(columns)}")
    lines += [f"    not rebuilt (rows carried over): {name}: {why}" for name, why in item.files_not_rebuilt.items()]
    if item.backup:
        lines.append(f"    old table kept as {item.backup}")
    lines += [f"    note: {note}" for note in item.notes]
    if item.error:
        lines.append(f"    error: {item.error}")
    return lines
