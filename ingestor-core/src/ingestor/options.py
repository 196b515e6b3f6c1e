"""Command-line options shared by `ingestor run` and `ingestor fetch`."""

from __future__ import annotations

from typing import Annotated

import typer

Service = Annotated[
    str | None, typer.Option("--service", "-s", help="Service(s), comma-separated. [env: INGESTOR_SERVICE]")
]
DataTypes = Annotated[str | None, typer.Option("--data-types", "-t", help="Only these data types, comma-separated.")]
Env = Annotated[str | None, typer.Option(help="Environment: dev or prd. [env: INGESTOR_ENV]")]
Landing = Annotated[str | None, typer.Option(help="Landing zone: file:///path or gs://bucket.")]
Bucket = Annotated[str | None, typer.Option(help="Bucket (or local folder) name; default ela-dp-{env}.")]
DataDir = Annotated[str | None, typer.Option(help="Folder of the embedded default; default ./ingestor-data.")]
LogLevel = Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING, ERROR. [env: LOG_LEVEL]")]
LogFormat = Annotated[str | None, typer.Option(help="text or json (one JSON object per line).")]
JsonOutput = Annotated[bool | None, typer.Option("--json", help="Print the result as JSON on stdout.")]
Warehouse = Annotated[str | None, typer.Option(help="Warehouse: duckdb:///path.duckdb or bigquery://project.")]
Notify = Annotated[
    list[str] | None,
    typer.Option("--notify", help="Apprise URL to notify (repeatable), e.g. json://host/path. [env: INGESTOR_NOTIFY]"),
]
NotifyOn = Annotated[str | None, typer.Option(help="Notify on: failed,rejected,stale (comma-separated; default all).")]
MetricsPush = Annotated[str | None, typer.Option(help="Push metrics to this Prometheus Pushgateway URL.")]
MetricsFile = Annotated[
    str | None, typer.Option(help="Write metrics in the Prometheus text format to this file (textfile collector).")
]
