"""A rebuild's replacement on BigQuery (see `ingestor.warehouse.rebuild`).

BigQuery allows no DDL on a permanent table inside a transaction, and a copy job changes one table: neither can
replace a table and its ledger entries together. So the table is replaced in place, by DML in one multi-statement
transaction, which BigQuery makes atomic across tables:

1. the table is created, or its new columns added (and INT64 widened) as a load does: harmless, every row NULL
   there (a rebuild on BigQuery keeps the table's columns and types: `keeps_columns`);
2. load jobs put the staged rows into a work table `{table}__rebuild`, and the new ledger entries into
   `{table}__rebuild_ledger` (both expire after a day if a crash leaves them);
3. the old table is copied to its backup (a copy job), unless none is kept;
4. one transaction deletes the rows of the rebuilt source files, inserts the work table's rows, deletes the
   replaced ledger entries and inserts the new ones. Readers see the table before or after it, never without the
   rebuilt rows; carried-over rows are never touched. Retried after a transient error, it gives the same result.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from google.cloud import bigquery

from ingestor.names import validate_identifier
from ingestor.run import faults
from ingestor.run.ledger import LEDGER_TABLE, ledger_schema
from ingestor.schema import Column, Kind, Struct, changes, reconcile
from ingestor.warehouse import LoadRequest, WarehouseUnavailable
from ingestor.warehouse.bigquery.client import Api
from ingestor.warehouse.bigquery.errors import job_error
from ingestor.warehouse.bigquery.jobs import LoadJobs, job_parts, load_rows
from ingestor.warehouse.bigquery.schema import DIALECT, create_table, evolve, fields_of
from ingestor.warehouse.bigquery.upload import StagingBucket
from ingestor.warehouse.dialect import storable

if TYPE_CHECKING:
    from ingestor.warehouse.rebuild import RebuildRequest


class Connected(Protocol):
    """What a rebuild uses of `BigQueryWarehouse`."""

    api: Api
    jobs: LoadJobs
    emulator: str | None
    bucket: StagingBucket | None
    read_only: bool

    def _ensure_dataset(self, dataset: str) -> None: ...
    def _ensure_table(self, dataset: str, table: str, schema: Struct) -> None: ...
    def _expire(self, dataset: str, name: str) -> None: ...
    def table_schema(self, dataset: str, table: str) -> Struct | None: ...


def replace(warehouse: Connected, request: RebuildRequest) -> int:
    """Replace the rebuilt rows and ledger entries in one transaction (see the module); the rows the table holds."""
    if warehouse.read_only:
        raise WarehouseUnavailable("the warehouse was opened read-only (dry run)")
    api, ds = warehouse.api, request.dataset
    warehouse._ensure_dataset(ds)
    warehouse._ensure_table(ds, LEDGER_TABLE, ledger_schema())
    live = warehouse.table_schema(ds, request.table)
    schema = reconcile(request.schema, live)
    load = LoadRequest(request.data_type, ds, request.table, schema, changes(schema), request.files, request.run_id)
    digest = hashlib.sha256(f"{request.run_id}\n{ds}.{request.table}".encode()).hexdigest()[:40]
    work, work_ledger, work_names = request.work, f"{request.work}_ledger", f"{request.work}_names"
    if request.files:
        base = f"ingestor_rebuild_{ds}_{request.table}_{digest}"[:900]
        fields = fields_of(storable(schema))
        for n, part in enumerate(job_parts(request.files)):
            disposition = "WRITE_TRUNCATE" if n == 0 else "WRITE_APPEND"
            warehouse.jobs.run_load(f"{base}_{n}", ds, work, part, fields, disposition, digest, False)
        _load_rows(api, ds, work_ledger, [f.entry.model_dump(mode="json") for f in request.files], ledger_schema())
    names = [{"kind": "rows", "value": v} for v in sorted(request.rebuilt)]
    names += [{"kind": "ledger", "value": v} for v in sorted(request.replaced)]
    _load_rows(api, ds, work_names, names, _names_schema())
    for name in (work, work_ledger, work_names):
        warehouse._expire(ds, name)
    faults.checkpoint("rebuild_after_load_job")  # test-only: the work tables loaded, nothing replaced
    if live is None:
        create_table(api, load)
    else:
        if load.changes:
            evolve(api, load, emulator=bool(warehouse.emulator))
        if request.backup:
            _copy(api, ds, request.table, request.backup, f"ingestor_backup_{digest}")
    _commit(api, request, storable(schema), work, work_ledger, work_names)
    for name in (work, work_ledger, work_names):
        api.delete_table(ds, name)
    if warehouse.bucket is not None:
        warehouse.bucket.remove(digest)  # the staged objects of the load jobs, if a staging bucket took them
    rows = api.query(f"SELECT COUNT(*) AS n FROM {DIALECT.table(ds, request.table)}")  # noqa: S608
    return int(rows[0]["n"])


def _names_schema() -> Struct:
    """The names work table: the source file values whose rows (`kind` rows) and the landing names whose ledger
    entries (`kind` ledger) are replaced (a table, not query parameters: a script's statements take none)."""
    struct = Struct()
    for name in ("kind", "value"):
        struct.add(Column(name, Kind.STRING))
    return struct


def _load_rows(api: Api, dataset: str, table: str, rows: list[dict[str, Any]], schema: Struct) -> None:
    """Rows into a work table (truncated first), with one load job."""
    data = b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in rows)
    job_id = f"ingestor_rebuild_{uuid.uuid4().hex}"
    failure = job_error(load_rows(api, data, api.ref(dataset, table), schema, "WRITE_TRUNCATE", job_id))
    if failure is not None:
        raise WarehouseUnavailable(f"rebuild job {job_id} into {dataset}.{table}: {failure[0]}")


def _copy(api: Api, dataset: str, table: str, backup: str, job_id: str) -> None:
    """Copy the table to its backup (a copy job; the backup must not exist yet)."""
    deadline, what = api.deadline(), f"backup of {dataset}.{table}"
    config = bigquery.CopyJobConfig(write_disposition="WRITE_EMPTY")
    source, destination = api.ref(dataset, table), api.ref(dataset, backup)

    def run() -> Any:
        job = api.client.copy_table(source, destination, job_id=job_id, job_config=config, **api.bounds(deadline, what))
        return api.wait(job, deadline)

    job = api.existing_job(job_id) or api.retry(run, what, deadline)
    failure = job_error(api.wait(job, deadline))
    if failure is not None:
        raise WarehouseUnavailable(f"{what}: {failure[0]}")


def _commit(
    api: Api, request: RebuildRequest, columns: list[Column], work: str, work_ledger: str, work_names: str
) -> None:
    """The one transaction: the rebuilt files' rows and ledger entries replaced (see the module). The service and
    data type are validated identifiers, so safe as literals."""
    q, ds, dt = DIALECT.quote, request.dataset, request.data_type
    live, ledger = DIALECT.table(ds, request.table), DIALECT.table(ds, LEDGER_TABLE)
    names = ", ".join(q(c.name) for c in columns)
    entries = ", ".join(q(c) for c in ledger_schema().columns)
    listed = DIALECT.table(ds, work_names)
    service, data_type = validate_identifier(dt.service), validate_identifier(dt.name)
    statements = [
        "BEGIN TRANSACTION;",
        f"DELETE FROM {live} WHERE {q(dt.source_file_column)} IN "  # noqa: S608
        f"(SELECT value FROM {listed} WHERE kind = 'rows');",
        f"DELETE FROM {ledger} WHERE service = '{service}' AND data_type = '{data_type}' "  # noqa: S608
        f"AND source_name IN (SELECT value FROM {listed} WHERE kind = 'ledger');",
    ]
    if request.files:
        statements += [
            f"INSERT INTO {live} ({names}) SELECT {names} FROM {DIALECT.table(ds, work)};",  # noqa: S608
            f"INSERT INTO {ledger} ({entries}) SELECT {entries} FROM {DIALECT.table(ds, work_ledger)};",  # noqa: S608
        ]
    statements.append("COMMIT TRANSACTION;")
    api.query("\n".join(statements))
