"""`BigQueryWarehouse`: the hooks of `SQLWarehouse` through the client's calls: a load stages its rows and ledger
rows by load jobs into staging tables, and publishes them with the history rows in one transaction (a script)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from google.api_core import exceptions as gexc
from google.cloud import bigquery

from ingestor.ops.history import HISTORY_TABLE, history_schema
from ingestor.run.ledger import ledger_schema
from ingestor.schema import Column, Struct
from ingestor.warehouse import LoadRequest, RowsRefused, ViewSources, WarehouseUnavailable
from ingestor.warehouse import rebuild as reads
from ingestor.warehouse.bigquery.client import DEFAULT_LOCATION, Api, Target, make_client, parameter
from ingestor.warehouse.bigquery.errors import as_load_error, job_error
from ingestor.warehouse.bigquery.jobs import LoadJobs, batch_digest, job_parts, load_rows
from ingestor.warehouse.bigquery.rebuild import replace
from ingestor.warehouse.bigquery.schema import DIALECT, column_of, create_table, evolve, fields_of
from ingestor.warehouse.bigquery.upload import StagingBucket
from ingestor.warehouse.bigquery.waits import Limits
from ingestor.warehouse.dialect import storable
from ingestor.warehouse.sql import SQLWarehouse

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

    def _add_columns(self, dataset: str, table: str, columns: list[Column]) -> None:
        """ALTER TABLE, then the API's schema patch for what its metadata still lacks (the emulator's)."""
        super()._add_columns(dataset, table, columns)
        fresh = self.api.get_table(dataset, table)
        known = {field.name.lower() for field in fresh.schema} if fresh is not None else set()
        lacking = [col for col in columns if col.name.lower() not in known]
        if fresh is not None and lacking:
            fresh.schema = [*fresh.schema, *fields_of(lacking)]
            self.api.update_table(fresh, ["schema"])

    def _create_table(self, request: LoadRequest) -> None:
        create_table(self.api, request)

    def _evolve(self, request: LoadRequest) -> None:
        evolve(self.api, request, emulator=bool(self.emulator))

    # -- a load: load jobs into staging tables, then one transaction (a script) publishes them -------------
    @contextmanager
    def _loading(self, request: LoadRequest) -> Iterator[None]:
        """Errors as LoadError. The batch's staging (tables, objects) is removed once it is published or its rows
        were refused (they are staged again under another digest); else it stays, for the next run to re-attach."""
        if self.read_only:
            raise WarehouseUnavailable("the warehouse was opened read-only (dry run)")
        done = False
        with as_load_error():
            try:
                yield
                done = True
            except RowsRefused:  # refused rows are staged again under another digest: clean up
                done = True
                raise
            finally:
                if done and request.files:
                    stage = self._staging_table(request)
                    self._cleanup(request.dataset, [stage, f"{stage}_ledger"], batch_digest(request))

    def _staging_table(self, request: LoadRequest) -> str:
        """`_ingestor_stage_{digest}`: named by the batch, so a re-run after a crash finds it."""
        return f"{STAGE_PREFIX}{batch_digest(request)}"

    def _stage_rows(self, request: LoadRequest, dataset: str, table: str) -> list[str]:
        """Load jobs of the staged files into `dataset.table` (re-attached to a crashed run's), then a count of
        its rows: a table that does not hold the batch's rows is dropped, and the load fails (transient)."""
        digest = batch_digest(request)
        schema = fields_of(storable(request.schema))
        base_id = f"ingestor_load_{request.dataset}_{request.table}_{digest}"[:900]
        job_ids, reuse = [], True
        for n, part in enumerate(job_parts(request.files)):
            disposition = "WRITE_TRUNCATE" if n == 0 else "WRITE_APPEND"
            job, reuse = self.jobs.run_load(f"{base_id}_{n}", dataset, table, part, schema, disposition, digest, reuse)
            job_ids.append(str(job.job_id))
        expected = sum(f.entry.rows for f in request.files)
        staged = self.api.query(f"SELECT COUNT(*) AS n FROM {DIALECT.table(dataset, table)}")[0]["n"]  # noqa: S608
        if staged != expected:
            self._cleanup(dataset, [table], digest)
            raise WarehouseUnavailable(f"staging table holds {staged} rows, expected {expected}: retry")
        self._expire(dataset, table)
        return job_ids

    def _stage_entries(self, request: LoadRequest) -> str:
        """The batch's ledger rows into `{staging table}_ledger` by a load job (idempotent: truncates)."""
        stage_ledger = f"{self._staging_table(request)}_ledger"
        data = b"".join(
            orjson.dumps(f.entry.model_dump(mode="json"), option=orjson.OPT_APPEND_NEWLINE) for f in request.files
        )
        destination = self.api.ref(request.dataset, stage_ledger)
        job_id = f"ingestor_ledger_{uuid.uuid4().hex}"
        job = load_rows(self.api, data, destination, ledger_schema(), "WRITE_TRUNCATE", job_id)
        failure = job_error(job)
        if failure is not None:
            raise WarehouseUnavailable(f"ledger staging job {job.job_id}: {failure[0]}")
        self._expire(request.dataset, stage_ledger)
        return DIALECT.table(request.dataset, stage_ledger)

    def _publish(self, request: LoadRequest, statements: list[str]) -> str:
        """The statements as one multi-statement transaction, a query job retried while transient (another
        try is safe: the publish skips what the ledger holds); the job's id."""
        sql = "".join(["BEGIN TRANSACTION;\n", *(f"{statement};\n" for statement in statements), "COMMIT TRANSACTION;"])
        what, deadline = f"commit to {request.dataset}.{request.table}", self.api.deadline()

        def run() -> str:
            prefix = f"ingestor_commit_{request.dataset}_{request.table}_"[:900]  # (job ids: at most 1,024 characters)
            job = self.api.client.query(sql, job_id_prefix=prefix, job_retry=None, **self.api.bounds(deadline, what))
            log.debug("submitted commit job %s", job.job_id)
            failure = job_error(self.api.wait(job, deadline))
            if failure is None:
                return str(job.job_id)
            message, transient, kind = failure
            if transient:
                raise job.exception()  # type: ignore[no-untyped-call]  # the job's error, tried again
            raise kind(f"commit {job.job_id}: {message}")

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
        except Exception as error:  # best effort (the staging tables expire by themselves): never the load's result
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
            raise WarehouseUnavailable(f"history job {job_id}: {failure[0]}")

    def ensure_view(self, dataset: str, name: str, columns: list[str], sources: ViewSources) -> None:
        """CREATE OR REPLACE VIEW over the sources, unless the warehouse was opened read-only."""
        if not self.read_only:
            super().ensure_view(dataset, name, columns, sources)

    def ensure_latest_view(
        self, dataset: str, name: str, table: str, key: list[str], newest: list[str], replace: bool
    ) -> bool:
        """The latest view of a table, unless the warehouse was opened read-only (see `SQLWarehouse`)."""
        return not self.read_only and super().ensure_latest_view(dataset, name, table, key, newest, replace)

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
