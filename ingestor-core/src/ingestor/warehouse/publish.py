"""The publish: the statements of the one transaction that makes a batch's rows, ledger entries and history
rows visible together, the heart of "exactly once". Written once for every backend (`SQLWarehouse.load`
runs them through the backend's `_publish`).

The rows come from where the backend staged them: a staging table the statements copy them from, or the
target table itself (`rows` None) when the whole load is one transaction that only this process can write
(DuckDB under its file lock): there the rows are in the table already, and the ledger the engine read stays
true until the commit. A publish from a staging table may run twice (a retried commit, another machine
committing the same batch): it skips the files the ledger already holds with the same checksum, rows,
history and ledger alike, so nothing is published twice.

SQL text is built only from identifiers the dialect validated and quoted (the `noqa: S608` marks)."""

from __future__ import annotations

from collections.abc import Callable

from ingestor.ops.history import HISTORY_TABLE, from_ledger
from ingestor.run.ledger import LEDGER_TABLE, ledger_schema
from ingestor.schema import Column
from ingestor.warehouse import LoadRequest

_BASE_NAME = "REGEXP_EXTRACT(source_name, '[^/]*$')"  # an object name's last part (DuckDB and BigQuery alike)
Quote = Callable[[str], str]  # a validated identifier, quoted in the warehouse's dialect


def publication(q: Quote, request: LoadRequest, columns: list[Column], rows: str | None, entries: str) -> list[str]:
    """The statements that publish a staged batch, in order: its rows (the table's `columns`, from the staging
    table `rows`, unless None: in the table already), its history rows (if the request has a history dataset;
    before the ledger rows that make them recorded) and its ledger rows (from `entries`, a table of the
    ledger's columns). `rows` and `entries` are quoted table names; `q` quotes an identifier."""
    ds = request.dataset

    def table(dataset: str, name: str) -> str:
        return f"{q(dataset)}.{q(name)}"

    ledger = table(ds, LEDGER_TABLE)
    new = ""  # which entries to publish: all of them, or (from a staging table) those the ledger lacks
    statements = []
    if rows is not None:
        recorded = (
            f"SELECT f.source_name FROM {entries} AS f JOIN {ledger} AS l "  # noqa: S608
            "ON l.source_name = f.source_name AND l.checksum = f.checksum"
        )
        new = f" WHERE source_name NOT IN ({recorded})"
        # The rows' source column holds the object name, or its base name (`DataType.source_file_for`).
        named = "source_name" if request.data_type.source_file_value == "path" else _BASE_NAME
        names = ", ".join(q(c.name) for c in columns)
        statements.append(
            f"INSERT INTO {table(ds, request.table)} ({names}) SELECT {names} FROM {rows} "  # noqa: S608
            f"WHERE {q(request.data_type.source_file_column)} NOT IN (SELECT {named} FROM ({recorded}))"
        )
    if request.history_dataset:
        history_columns, select = from_ledger(q)
        history = table(request.history_dataset, HISTORY_TABLE)
        statements.append(f"INSERT INTO {history} ({history_columns}) SELECT {select} FROM {entries}{new}")  # noqa: S608
    ledger_columns = ", ".join(q(c) for c in ledger_schema().columns)
    statements.append(f"INSERT INTO {ledger} ({ledger_columns}) SELECT {ledger_columns} FROM {entries}{new}")  # noqa: S608
    return statements
