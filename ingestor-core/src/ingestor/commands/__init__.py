"""The `ingestor` commands, one module each; `ingestor.cli` assembles them into the Typer app.

`common` holds what they share: exit codes, `fail`, and the edge where the configuration tree and the
plugins are built (once per command, then handed down).
"""
