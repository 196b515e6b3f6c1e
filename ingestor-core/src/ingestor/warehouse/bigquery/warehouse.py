"""`BigQueryWarehouse`: the hooks of `SQLWarehouse` through the client's calls, and a load as load jobs into
a staging table followed by the one transaction that publishes rows, ledger and history rows."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from google.api_core import exceptions as gexc
from google.cloud import bigquery

from ingestor import faults
from ingestor.history import HISTORY_TABLE, from_ledger, history_schema
from ingestor.ledger import LEDGER_TABLE, ledger_schema
from ingestor.schema import Column, Struct
from ingestor.warehouse import LoadError, LoadReport, LoadRequest, ViewSources
from ingestor.warehouse import rebuild as reads
from ingestor.warehouse.bigquery.client import DEFAULT_LOCATION, Api, Target, make_client, parameter
from ingestor.warehouse.bigquery.errors import as_load_error, job_error
from ingestor.warehouse.bigquery.jobs import LoadJobs, batch_digest, job_parts, load_rows
from ingestor.warehouse.bigquery.rebuild import replace
from ingestor.warehouse.bigquery.schema import DIALECT, column_of, create_table, evolve, fields_of
from ingestor.warehouse.bigquery.upload import StagingBucket
from ingestor.warehouse.bigquery.waits import Limits
from ingestor.warehouse.sql import SQLWarehouse, storable

if TYPE_CHECKING:
    from ingestor.settings import Settings

log = logging.getLogger("ingestor.warehouse.bigquery")

STAGE_PREFIX = "_ingestor_stage_"
STAGE_TTL = timedelta(days=1)
LEDGER_CHUNK = 10_000  # object names per ledger query


class BigQueryWarehouse(SQLWarehouse):
    """A BigQuery project; datasets are created in `location` when first needed.

    Several data types load at once (`max_parallel_loads`): load jobs run side by side, and commits that
    touch the same ledger concurrently are serialized by BigQuery (the aborted one is retried)."""

    max_parallel_loads = 4
    loads_arrow = False  # staged files are NDJSON (load jobs from the staging bucket)
    dialect = DIALECT

    def __init__(
        self,
        project: str,
        *,
        location: str = DEFAULT_LOCATION,
        read_only: bool = False,
        staging: str | None = None,
        client: Any = None,
        storage: Any = None,
        retry_wait: float = 1.0,
        emulator: str | None = None,
        storage_emulator: str | None = None,
        limits: Limits | None = None,
        storage_timeout: float = 60.0,
    ) -> None:
        self.project = project
        self.location = location
        self.read_only = read_only
        self.url = f"bigquery://{project}"
        self.emulator = emulator
        client = client if client is not None else make_client(project, location, emulator)
        self.api = Api(client, project, location, retry_wait, limits)
        self.bucket = StagingBucket(self.api, staging, storage, storage_emulator, storage_timeout) if staging else None
        self.staging = (self.bucket.name, self.bucket.prefix) if self.bucket else None
        self.jobs = LoadJobs(self.api, self.bucket)

    @classmethod
    def from_url(cls, url: str, settings: Settings, read_only: bool = False) -> BigQueryWarehouse:
        """`bigquery://PROJECT[?location=EU&staging=gs://BUCKET/prefix]`; `bigquery://` takes `GCP_PROJECT_ID`."""
        target = Target.from_url(url, settings)
        return cls(
            target.project,
            location=target.location,
            read_only=read_only,
            staging=target.staging,
            emulator=target.emulator,
            storage_emulator=target.storage_emulator,
            limits=target.limits,
            storage_timeout=target.storage_timeout,
        )

    @property
    def retry_wait(self) -> float:
        """Seconds before the first retry of a call (doubling after each)."""
        return self.api.retry_wait

    @retry_wait.setter
    def retry_wait(self, seconds: float) -> None:
        self.api.retry_wait = seconds

    # -- the skeleton's hooks ------------------------------------------------------------------------------
    def _reading(self) -> AbstractContextManager[None]:
        return as_load_error()

    def _exists(self, dataset: str, table: str) -> bool:
        return self.api.get_table(dataset, table) is not None

    def _stored_columns(self, dataset: str, table: str) -> list[Column] | None:
        found = self.api.get_table(dataset, table)
        return None if found is None else [column_of(field) for field in found.schema]

    def _ledger_rows(self, dataset: str, names: list[str]) -> list[dict[str, Any]]:
        query = f"{self._ledger_query(dataset)} WHERE source_name IN UNNEST(@names)"
        rows: list[dict[str, Any]] = []
        for start in range(0, len(names), LEDGER_CHUNK):
            rows += self._select(query, {"names": names[start : start + LEDGER_CHUNK]})
        return rows

    def _select(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [dict(row.items()) for row in self.api.query(sql, [parameter(k, v) for k, v in params.items()])]

    def _execute(self, sql: str) -> None:
        self.api.query(sql)

    def _ensure_dataset(self, dataset: str) -> None:
        self.api.create_dataset(dataset)

    def _ensure_table(self, dataset: str, table: str, schema: Struct) -> None:
        self.api.create_table(
            bigquery.Table(self.api.ref(dataset, table), schema=fields_of(list(schema.columns.values())))
        )

    def _create_table(self, request: LoadRequest) -> None:
        create_table(self.api, request)

    def _evolve(self, request: LoadRequest) -> None:
        evolve(self.api, request, emulator=bool(self.emulator))

    # -- load ----------------------------------------------------------------------------------------------
    def load(self, request: LoadRequest) -> LoadReport:
        """Evolve the table, load the batch into staging, commit rows + ledger in one transaction."""
        if self.read_only:
            raise LoadError("the warehouse was opened read-only (dry run)", data_error=False)
        with as_load_error():
            self._prepare(request)
            if not request.files:
                return LoadReport(rows=0)
            return self._load_batch(request)

    def _load_batch(self, request: LoadRequest) -> LoadReport:
        digest = batch_digest(request)
        stage = f"{STAGE_PREFIX}{digest}"
        stage_ledger = f"{stage}_ledger"
        schema = fields_of(storable(request.schema))
        job_ids: list[str] = []
        base_id = f"ingestor_load_{request.dataset}_{request.table}_{digest}"[:900]
        done, reuse = False, True
        try:
            for n, part in enumerate(job_parts(request.files)):
                disposition = "WRITE_TRUNCATE" if n == 0 else "WRITE_APPEND"
                job, reuse = self.jobs.run_load(
                    f"{base_id}_{n}", request.dataset, stage, part, schema, disposition, digest, reuse
                )
                job_ids.append(job.job_id)
            expected = sum(f.entry.rows for f in request.files)
            staged = self.api.query(f"SELECT COUNT(*) AS n FROM {DIALECT.table(request.dataset, stage)}")[0]["n"]  # noqa: S608
            if staged != expected:
                self._cleanup(request.dataset, [stage], digest)
                raise LoadError(f"staging table holds {staged} rows, expected {expected}: retry", data_error=False)
            self._load_ledger(request, stage_ledger)
            for name in (stage, stage_ledger):
                self._expire(request.dataset, name)
            faults.checkpoint("after_load_job")  # test-only crash point: rows staged, nothing committed
            commit = self._commit(request, stage, stage_ledger)
            job_ids.append(commit)
            done = True
        except LoadError as error:
            done = error.data_error  # refused rows will be reloaded under another digest: clean up
            raise
        finally:
            if done:
                self._cleanup(request.dataset, [stage, stage_ledger], digest)
        return LoadReport(rows=sum(f.entry.rows for f in request.files), job_ids=job_ids)

    def _load_ledger(self, request: LoadRequest, stage_ledger: str) -> None:
        """The batch's ledger rows into their staging table (idempotent: truncates)."""
        data = b"".join(
            orjson.dumps(f.entry.model_dump(mode="json"), option=orjson.OPT_APPEND_NEWLINE) for f in request.files
        )
        destination = self.api.ref(request.dataset, stage_ledger)
        job_id = f"ingestor_ledger_{uuid.uuid4().hex}"
        job = load_rows(self.api, data, destination, ledger_schema(), "WRITE_TRUNCATE", job_id)
        failure = job_error(job)
        if failure is not None:
            raise LoadError(f"ledger staging job {job.job_id}: {failure[0]}", data_error=False)

    def _commit(self, request: LoadRequest, stage: str, stage_ledger: str) -> str:
        """The one transaction that publishes rows and ledger entries, skipping files already recorded."""
        q, ds = DIALECT.quote, request.dataset
        names = ", ".join(q(c.name) for c in storable(request.schema))
        source = q(request.data_type.source_file_column)
        ledger_columns = ", ".join(q(c) for c in ledger_schema().columns)
        staged, staged_ledger, ledger = (DIALECT.table(ds, t) for t in (stage, stage_ledger, LEDGER_TABLE))
        # The rows' source column holds the object name, or its base name (`DataType.source_file_for`).
        named = (
            "source_name"
            if request.data_type.source_file_value == "path"
            else r"REGEXP_EXTRACT(source_name, r'[^/]*$')"
        )
        done = (
            f"SELECT f.source_name FROM {staged_ledger} AS f JOIN {ledger} AS l "  # noqa: S608
            "ON l.source_name = f.source_name AND l.checksum = f.checksum"
        )
        history = ""
        if request.history_dataset:  # the loaded files' history rows, before the ledger rows that make them `done`
            columns, select = from_ledger(q)
            history = (
                f"INSERT INTO {DIALECT.table(request.history_dataset, HISTORY_TABLE)} ({columns}) SELECT {select} "  # noqa: S608
                f"FROM {staged_ledger} WHERE source_name NOT IN ({done});\n"
            )
        sql = (
            "BEGIN TRANSACTION;\n"  # noqa: S608
            f"INSERT INTO {DIALECT.table(ds, request.table)} ({names}) SELECT {names} FROM {staged} "
            f"WHERE {source} NOT IN (SELECT {named} FROM ({done}));\n"
            f"{history}"
            f"INSERT INTO {ledger} ({ledger_columns}) SELECT {ledger_columns} "
            f"FROM {staged_ledger} WHERE source_name NOT IN ({done});\n"
            "COMMIT TRANSACTION;"
        )

        what, deadline = f"commit to {ds}.{request.table}", self.api.deadline()

        def run() -> str:  # another try is safe: the statement skips what the ledger holds
            prefix = f"ingestor_commit_{ds}_{request.table}_"[:900]  # (job ids: at most 1,024 characters)
            job = self.api.client.query(sql, job_id_prefix=prefix, job_retry=None, **self.api.bounds(deadline, what))
            log.debug("submitted commit job %s", job.job_id)
            failure = job_error(self.api.wait(job, deadline))
            if failure is None:
                return str(job.job_id)
            message, transient, data_error = failure
            if transient:
                raise job.exception()  # type: ignore[no-untyped-call]  # the job's error, tried again
            raise LoadError(f"commit {job.job_id}: {message}", data_error=data_error)

        return self.api.retry(run, what, deadline)

    def _expire(self, dataset: str, name: str) -> None:
        """Let a staging table vanish by itself if a crash leaves it behind."""
        table = self.api.get_table(dataset, name)
        if table is not None:
            table.expires = datetime.now(UTC) + STAGE_TTL
            try:
                self.api.update_table(table, ["expires"])
            except gexc.GoogleAPICallError as error:
                log.debug("could not set expiry on %s: %s", name, error)

    def _cleanup(self, dataset: str, tables: Iterable[str], digest: str) -> None:
        """Drop the staging tables and staged objects of a finished batch (best effort)."""
        try:
            for name in tables:
                self.api.delete_table(dataset, name)
            if self.bucket is not None:
                self.bucket.remove(digest)
        except Exception as error:
            log.warning("staging of batch %s not cleaned up: %s", digest, error)

    # -- history and views ---------------------------------------------------------------------------------
    def append_history(self, dataset: str, rows: list[dict[str, Any]]) -> None:
        """Append history rows with one load job (atomic); its id is derived from the rows, so a retried
        submission attaches to the job instead of appending twice."""
        self._ensure_history(dataset)
        data = b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in rows)
        job_id = f"ingestor_history_{hashlib.sha256(data).hexdigest()[:40]}"
        destination = self.api.ref(dataset, HISTORY_TABLE)
        failure = job_error(load_rows(self.api, data, destination, history_schema(), "WRITE_APPEND", job_id))
        if failure is not None:
            raise LoadError(f"history job {job_id}: {failure[0]}", data_error=False)

    def ensure_view(self, dataset: str, name: str, columns: list[str], sources: ViewSources) -> None:
        """CREATE OR REPLACE VIEW over the sources, unless the warehouse was opened read-only."""
        if not self.read_only:
            super().ensure_view(dataset, name, columns, sources)

    def close(self) -> None:
        """Close the clients' HTTP sessions."""
        self.api.client.close()  # type: ignore[no-untyped-call]
        if self.bucket is not None:
            self.bucket.close()

    # -- rebuild (see ingestor.warehouse.rebuild and .rebuild here) ------------------------------------------
    keeps_columns = True  # a rebuild changes the table in place: its columns stay, with their types
    ledger_entries = reads.ledger_entries  # a data type's ledger entries
    source_counts = reads.source_counts  # the table's rows per source file value

    def rebuild(self, request: reads.RebuildRequest) -> int:
        """Replace the rebuilt files' rows and ledger entries in one transaction; the rows the table holds now."""
        with as_load_error():
            return replace(self, request)
