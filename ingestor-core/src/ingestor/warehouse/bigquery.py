"""BigQuery (`bigquery://PROJECT`), through the official client and Application Default Credentials.

Exactly once. BigQuery cannot make a load job and a ledger insert atomic, so a batch goes in two steps:

1. Load jobs put the staged rows into a per-batch staging table `{dataset}._ingestor_stage_{digest}`,
   and the batch's ledger rows into `..._ledger` (both expire after a day). The digest, and so the
   data load job id, is derived from the batch (object names, checksums, `request.attempt`): a re-run
   after a crash finds the job (or gets 409 Conflict on submitting it), waits for it and reuses its
   staging table instead of loading again. A pre-existing *failed* job is not reused: the next id
   (`..._r1`, ...) is submitted.
2. One multi-statement transaction appends the staged rows to the target table and the ledger rows to
   `{dataset}._ingestor_ledger`, both filtered by the ledger itself (files already recorded with the same
   checksum are skipped). This commit is the only step that makes rows visible, and it is atomic on real
   BigQuery; two machines committing the same files conflict, one is aborted (concurrent update), retried,
   and then finds the files in the ledger. So rows and ledger never disagree and nothing is loaded twice.

Staging. The staged files of a job are concatenated before they leave the machine: many small landing
files cost one upload, not one request each (measured on the storage emulator: 1,000 sequential small
uploads took 70 s, about 70 ms each, against one upload for the whole batch; on real GCS a small upload costs
tens of ms too). With a staging location (`INGESTOR_STAGING_BUCKET=gs://BUCKET[/prefix]` or
`bigquery://PROJECT?staging=gs://BUCKET/prefix`; the landing bucket is the natural choice; it must be in the
dataset's location), they are uploaded as objects of up to 1 GiB under `{prefix}_staging/{digest}/` and loaded
by URI, so a re-attached job needs no new upload; the objects are deleted after the commit. Without one, each
job's bytes go up with the job itself (`load_table_from_file`): no bucket needed, but a re-run uploads again.
One load job per batch; split only at `MAX_JOB_BYTES` (BigQuery allows 15 TB and 10,000 URIs per job).

Schemas are always explicit (never autodetect). New tables get the data type's time partitioning and
clustering. Before a load: top-level columns are added with `ALTER TABLE ADD COLUMN`, INT64 columns widened
with `ALTER COLUMN SET DATA TYPE FLOAT64`, nested fields added by patching the table schema. JSON columns
receive the raw JSON values of the NDJSON lines, as BigQuery documents for NDJSON loads.

Location: `INGESTOR_BQ_LOCATION` (or `?location=`), default `US`, BigQuery's own default for new datasets.
Endpoint: `BIGQUERY_EMULATOR_HOST` (e.g. `http://127.0.0.1:9050`) with anonymous credentials. Against the
emulator (which ignores schema patches for stored data and does not update metadata after DDL), the
nested additions are applied with `ALTER COLUMN SET DATA TYPE STRUCT<...>` and the metadata re-synced.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlparse

import orjson
import requests
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from ingestor import faults
from ingestor.history import HISTORY_TABLE, from_ledger, history_schema
from ingestor.landing.gcs import split_gs_url, storage_client
from ingestor.ledger import LEDGER_TABLE, LedgerEntry, ledger_schema
from ingestor.metrics import RETRIES
from ingestor.names import validate_identifier
from ingestor.schema import Column, Kind, Struct, mark_stored
from ingestor.warehouse import LoadError, LoadReport, LoadRequest, StagedFile, ViewSources, union_view_select

if TYPE_CHECKING:
    from ingestor.settings import Settings

log = logging.getLogger("ingestor.warehouse.bigquery")
T = TypeVar("T")

DEFAULT_LOCATION = "US"
MAX_JOB_BYTES = 4 * 1024**4  # BigQuery allows 15 TB per load job (and 10,000 URIs: 4,096 staging objects)
MAX_JOB_RESUBMITS = 20
RETRY_ATTEMPTS = 7
# The client's own retry of one call, bounded (its default allows 600 s per call, which stacked
# under RETRY_ATTEMPTS would take an hour to report an outage), its retries counted in the metrics.
CALL_RETRY = Retry(
    predicate=bigquery.DEFAULT_RETRY._predicate,  # the client's own choice of retriable errors
    timeout=60,
    on_error=lambda _: RETRIES.inc(),
)
STAGE_PREFIX = "_ingestor_stage_"
STAGE_TTL = timedelta(days=1)
MAX_STAGING_OBJECT = 1024**3  # staged files are concatenated into objects of up to this size
UPLOAD_THREADS = 4

_TYPES = {
    Kind.STRING: "STRING",
    Kind.INT64: "INT64",
    Kind.FLOAT64: "FLOAT64",
    Kind.BOOL: "BOOL",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.DATE: "DATE",
    Kind.JSON: "JSON",
    Kind.STRUCT: "RECORD",
}
_KINDS = {
    "STRING": Kind.STRING,
    "INTEGER": Kind.INT64,
    "INT64": Kind.INT64,
    "FLOAT": Kind.FLOAT64,
    "FLOAT64": Kind.FLOAT64,
    "NUMERIC": Kind.FLOAT64,
    "BIGNUMERIC": Kind.FLOAT64,
    "BOOLEAN": Kind.BOOL,
    "BOOL": Kind.BOOL,
    "TIMESTAMP": Kind.TIMESTAMP,
    "DATE": Kind.DATE,
    "JSON": Kind.JSON,
    "RECORD": Kind.STRUCT,
    "STRUCT": Kind.STRUCT,
}
_TRANSIENT_REASONS = {"backendError", "internalError", "rateLimitExceeded", "backendErrorRetriable", "jobInternalError"}
_TRANSIENT_MESSAGES = (
    "too many table update operations",
    "concurrent update",
    "exceeded rate limits",
    "retry",
    "backenderror",
    "internal error",
)
_DATA_REASONS = {"invalid", "invalidQuery"}


# -- errors and retries ----------------------------------------------------------------------------------
def _reasons(error: BaseException) -> set[str]:
    return {e.get("reason", "") for e in getattr(error, "errors", None) or [] if isinstance(e, dict)}


@contextmanager
def _as_load_error() -> Iterator[None]:
    """BigQuery's and the network's errors as LoadError, with `data_error` when the rows themselves were refused."""
    try:
        yield
    except LoadError:
        raise
    except gexc.GoogleAPICallError as error:
        data = bool(_reasons(error) & _DATA_REASONS) and not is_transient(error)
        raise LoadError(str(error.message).splitlines()[0], data_error=data) from error
    except gexc.RetryError as error:  # the client's own retries ran out, on each of our attempts
        cause = error.cause.message if isinstance(error.cause, gexc.GoogleAPICallError) else error.cause
        raise LoadError(f"BigQuery kept failing ({error.message}): {cause}", data_error=False) from error
    except (requests.RequestException, ConnectionError, TimeoutError) as error:
        raise LoadError(f"BigQuery unreachable: {error}", data_error=False) from error


def is_transient(error: BaseException) -> bool:
    """429, 5xx, rate limits, concurrent-update aborts, connection resets: worth another try."""
    if isinstance(
        error,
        (
            gexc.TooManyRequests,
            gexc.InternalServerError,
            gexc.BadGateway,
            gexc.ServiceUnavailable,
            gexc.GatewayTimeout,
            gexc.RetryError,
        ),
    ):
        return True
    if isinstance(error, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)):
        return True
    if isinstance(error, gexc.GoogleAPICallError):
        message = str(error.message).lower()
        return bool(_reasons(error) & _TRANSIENT_REASONS) or any(m in message for m in _TRANSIENT_MESSAGES)
    return False


def _job_error(job: Any) -> tuple[str, bool, bool] | None:
    """(message, transient, data_error) of a finished job that failed, else None."""
    result = job.error_result
    if not result:
        return None
    details = [e.get("message", "") for e in (job.errors or []) if e.get("message")]
    message = "; ".join(dict.fromkeys([result.get("message", ""), *details[:5]])).strip("; ")
    reason = result.get("reason", "")
    lowered = message.lower()
    transient = reason in _TRANSIENT_REASONS or any(m in lowered for m in _TRANSIENT_MESSAGES)
    return message or reason, transient, not transient and reason in _DATA_REASONS


# -- schemas -----------------------------------------------------------------------------------------------
def _storable(struct: Struct) -> list[Column]:
    """Columns a table can hold (a STRUCT with no field yet cannot be created)."""
    return [c for c in struct.columns.values() if c.kind is not Kind.STRUCT or (c.fields and _storable(c.fields))]


def field_of(col: Column) -> bigquery.SchemaField:
    """The BigQuery field of a column."""
    fields = [field_of(c) for c in _storable(col.fields)] if col.kind is Kind.STRUCT and col.fields else []
    return bigquery.SchemaField(
        col.name, _TYPES[col.kind], mode="REPEATED" if col.repeated else "NULLABLE", fields=fields
    )


def ddl_type(col: Column, top: bool = True) -> str:
    """The GoogleSQL type of a column, e.g. `ARRAY<STRUCT<a INT64>>`."""
    if col.kind is Kind.STRUCT:
        assert col.fields is not None
        inner = (
            "STRUCT<"
            + ", ".join(f"`{validate_identifier(c.name)}` {ddl_type(c, False)}" for c in _storable(col.fields))
            + ">"
        )
    else:
        inner = _TYPES[col.kind]
    return f"ARRAY<{inner}>" if col.repeated else inner


def column_of(field: bigquery.SchemaField) -> Column:
    """The column of a BigQuery field (types the engine does not know are read as STRING)."""
    kind = _KINDS.get(field.field_type.upper(), Kind.STRING)
    fields = None
    if kind is Kind.STRUCT:
        fields = Struct()
        for sub in field.fields:
            fields.add(column_of(sub))
    return Column(field.name, kind, repeated=field.mode == "REPEATED", fields=fields)


def _merged(existing: list[dict[str, Any]], struct: Struct) -> list[dict[str, Any]]:
    """The table's fields (API form, descriptions kept) with the struct's new fields and widenings."""
    out = []
    seen = set()
    for field in existing:
        field = dict(field)
        col = struct.get(field["name"])
        seen.add(field["name"].lower())
        if col is not None:
            if col.stored_kind is not None and col.kind is Kind.FLOAT64:
                field["type"] = "FLOAT"
            if col.fields is not None and field.get("fields") is not None:
                field["fields"] = _merged(field["fields"], col.fields)
        out.append(field)
    out.extend(field_of(c).to_api_repr() for c in _storable(struct) if c.name.lower() not in seen)
    return out


def _q(*names: str) -> str:
    """Backtick-quoted, validated identifiers joined with dots."""
    return ".".join(f"`{validate_identifier(n)}`" for n in names)


def _batches(files: list[StagedFile], max_bytes: int | None = None) -> list[list[StagedFile]]:
    """Split staged files into consecutive groups of at most `max_bytes` (a load job's limit by default)."""
    max_bytes = MAX_JOB_BYTES if max_bytes is None else max_bytes
    out: list[list[StagedFile]] = [[]]
    size = 0
    for file in files:
        length = file.path.stat().st_size
        if out[-1] and size + length > max_bytes:
            out.append([])
            size = 0
        out[-1].append(file)
        size += length
    return out


def _concatenate(files: list[StagedFile], out: Any) -> None:
    """Append the files' bytes to `out` (each staged file ends with a newline)."""
    for file in files:
        with file.path.open("rb") as part:
            shutil.copyfileobj(part, out)
    out.flush()


def batch_digest(request: LoadRequest) -> str:
    """What identifies a batch across runs and machines: table, files with checksums, attempt."""
    h = hashlib.sha256(f"{request.dataset}.{request.table}\n{request.attempt}\n".encode())
    for f in sorted(request.files, key=lambda f: f.entry.source_name):
        h.update(f"{f.entry.source_name}\0{f.entry.checksum}\n".encode())
    return h.hexdigest()[:40]


# -- the warehouse ---------------------------------------------------------------------------------------
class BigQueryWarehouse:
    """A BigQuery project; datasets are created in `location` when first needed.

    Several data types load at once (`max_parallel_loads`): load jobs run side by side, and commits that
    touch the same ledger concurrently are serialized by BigQuery (the aborted one is retried)."""

    max_parallel_loads = 4
    loads_arrow = False  # staged files are NDJSON (load jobs from the staging bucket)

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
    ) -> None:
        self.project = project
        self.location = location
        self.read_only = read_only
        self.url = f"bigquery://{project}"
        self.emulator = emulator
        self.storage_emulator = storage_emulator  # a local GCS API server for the staging bucket
        self.client = client if client is not None else self._client()
        self.staging = split_gs_url(staging) if staging else None
        self._storage = storage
        self.retry_wait = retry_wait

    @classmethod
    def from_url(cls, url: str, settings: Settings, read_only: bool = False) -> BigQueryWarehouse:
        """`bigquery://PROJECT[?location=EU&staging=gs://BUCKET/prefix]`; `bigquery://` takes `GCP_PROJECT_ID`."""
        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        project = parsed.netloc or settings.bigquery.project or ""
        if not project:
            raise ValueError("no project: use bigquery://PROJECT or set GCP_PROJECT_ID")
        location = query.get("location") or settings.bigquery.location
        staging = query.get("staging") or settings.bigquery.staging_bucket
        if staging and not staging.startswith("gs://"):
            staging = "gs://" + staging
        return cls(
            project,
            location=location,
            read_only=read_only,
            staging=staging,
            emulator=settings.bigquery.emulator_host,
            storage_emulator=settings.gcs.emulator_host,
        )

    def _client(self) -> bigquery.Client:
        if self.emulator:
            from google.api_core.client_options import ClientOptions
            from google.auth.credentials import AnonymousCredentials

            endpoint = self.emulator if "://" in self.emulator else "http://" + self.emulator
            anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
            return bigquery.Client(
                project=self.project,
                location=self.location,
                credentials=anonymous,
                client_options=ClientOptions(api_endpoint=endpoint),
            )
        return bigquery.Client(project=self.project, location=self.location)

    @property
    def storage(self) -> Any:
        """The storage client for the staging bucket (created on first use)."""
        if self._storage is None:
            self._storage = storage_client(self.project, self.storage_emulator)
        return self._storage

    def _retry(self, fn: Callable[[], T]) -> T:
        """Call `fn`, retrying transient errors with bounded exponential backoff."""
        for attempt in Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(RETRY_ATTEMPTS),
            wait=wait_exponential(multiplier=self.retry_wait, max=60 * self.retry_wait),
            reraise=True,
            before_sleep=lambda _: RETRIES.inc(),
        ):
            with attempt:
                return fn()
        raise AssertionError("unreachable")

    def _ref(self, dataset: str, table: str) -> str:
        return f"{self.project}.{validate_identifier(dataset, 'dataset')}.{validate_identifier(table, 'table')}"

    def _query(self, sql: str, params: list[Any] | None = None) -> list[Any]:
        config = bigquery.QueryJobConfig(query_parameters=params or [])
        return self._retry(lambda: list(self.client.query(sql, job_config=config, retry=CALL_RETRY).result()))

    def _get_table(self, dataset: str, table: str) -> bigquery.Table | None:
        try:
            return self._retry(lambda: self.client.get_table(self._ref(dataset, table), retry=CALL_RETRY))
        except gexc.NotFound:
            return None

    # -- reads -----------------------------------------------------------------------------------------
    def table_schema(self, dataset: str, table: str) -> Struct | None:
        """Columns of `dataset.table`, or None."""
        with _as_load_error():
            found = self._get_table(dataset, table)
        if found is None:
            return None
        struct = Struct()
        for field in found.schema:
            struct.add(column_of(field))
        return mark_stored(struct)

    def loaded(self, datasets: set[str], names: list[str]) -> dict[str, list[LedgerEntry]]:
        """Ledger rows per object name found in the ledgers of `datasets`."""
        with _as_load_error():
            return self._ledger_rows(datasets, names)

    def _ledger_rows(self, datasets: set[str], names: list[str]) -> dict[str, list[LedgerEntry]]:
        found: dict[str, list[LedgerEntry]] = {}
        for dataset in sorted(datasets):
            if not names or self._get_table(dataset, LEDGER_TABLE) is None:
                continue
            for start in range(0, len(names), 10_000):
                chunk = names[start : start + 10_000]
                rows = self._query(
                    f"SELECT {', '.join(f'`{f}`' for f in LedgerEntry.model_fields)} FROM {_q(dataset, LEDGER_TABLE)} "  # noqa: S608
                    "WHERE source_name IN UNNEST(@names)",
                    [bigquery.ArrayQueryParameter("names", "STRING", chunk)],
                )
                for row in rows:
                    found.setdefault(row["source_name"], []).append(LedgerEntry(**dict(row)))
        return found

    # -- load ------------------------------------------------------------------------------------------
    def load(self, request: LoadRequest) -> LoadReport:
        """Evolve the table, load the batch into staging, commit rows + ledger in one transaction."""
        if self.read_only:
            raise LoadError("the warehouse was opened read-only (dry run)", data_error=False)
        with _as_load_error():
            self._prepare(request)
            if not request.files:
                return LoadReport(rows=0)
            return self._load_batch(request)

    def _ensure_dataset(self, dataset: str) -> None:
        ds = bigquery.Dataset(f"{self.project}.{validate_identifier(dataset, 'dataset')}")
        ds.location = self.location
        self._retry(lambda: self.client.create_dataset(ds, exists_ok=True, retry=CALL_RETRY))

    def _prepare(self, request: LoadRequest) -> None:
        """Dataset, ledger table, and the target table created or evolved to `request.schema`."""
        self._ensure_dataset(request.dataset)
        ledger = bigquery.Table(
            self._ref(request.dataset, LEDGER_TABLE), schema=[field_of(c) for c in ledger_schema().columns.values()]
        )
        self._retry(lambda: self.client.create_table(ledger, exists_ok=True, retry=CALL_RETRY))
        if request.history_dataset:
            self._ensure_history(request.history_dataset)
        table = self._get_table(request.dataset, request.table)
        if table is None:
            self._create_table(request)
        elif request.changes:
            self._evolve(request, table)

    def _create_table(self, request: LoadRequest) -> None:
        columns = _storable(request.schema)
        table = bigquery.Table(self._ref(request.dataset, request.table), schema=[field_of(c) for c in columns])
        dt = request.data_type
        if dt.partition_by:
            col = request.schema.get(dt.partition_by)
            if col is not None and col.kind in (Kind.TIMESTAMP, Kind.DATE) and not col.repeated:
                table.time_partitioning = bigquery.TimePartitioning(field=col.name)
            else:
                log.warning("%s: cannot partition by %s (no such TIMESTAMP/DATE column)", dt.key, dt.partition_by)
        clusterable = {Kind.STRING, Kind.INT64, Kind.BOOL, Kind.TIMESTAMP, Kind.DATE}
        cluster = [
            c.name
            for name in dt.cluster_by
            if (c := request.schema.get(name)) is not None and c.kind in clusterable and not c.repeated
        ][:4]
        if cluster:
            table.clustering_fields = cluster
        self._retry(lambda: self.client.create_table(table, exists_ok=True, retry=CALL_RETRY))

    def _evolve(self, request: LoadRequest, table: bigquery.Table) -> None:
        """Apply `request.changes`: ADD COLUMN / SET DATA TYPE for top-level, a schema patch for nested."""
        target = _q(request.dataset, request.table)
        top = {c.path[0].lower() for c in request.changes if len(c.path) == 1}
        nested = {c.path[0].lower() for c in request.changes if len(c.path) > 1}
        for col in _storable(request.schema):
            if col.name.lower() not in top:
                continue
            if col.stored:
                self._query(f"ALTER TABLE {target} ALTER COLUMN `{col.name}` SET DATA TYPE {ddl_type(col)}")
            else:
                self._query(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS `{col.name}` {ddl_type(col)}")
        if not nested and not self.emulator:
            return
        fresh = self._get_table(request.dataset, request.table) or table
        merged = _merged([f.to_api_repr() for f in fresh.schema], request.schema)
        fresh.schema = [bigquery.SchemaField.from_api_repr(f) for f in merged]
        self._retry(lambda: self.client.update_table(fresh, ["schema"], retry=CALL_RETRY))
        if self.emulator:  # the emulator's stored columns ignore schema patches
            for col in _storable(request.schema):
                if col.name.lower() in nested:
                    self._query(f"ALTER TABLE {target} ALTER COLUMN `{col.name}` SET DATA TYPE {ddl_type(col)}")

    def _load_batch(self, request: LoadRequest) -> LoadReport:
        digest = batch_digest(request)
        stage = f"{STAGE_PREFIX}{digest}"
        stage_ledger = f"{stage}_ledger"
        schema = [field_of(c) for c in _storable(request.schema)]
        job_ids: list[str] = []
        base_id = f"ingestor_load_{request.dataset}_{request.table}_{digest}"[:900]
        done, reuse = False, True
        try:
            for n, part in enumerate(_batches(request.files)):
                disposition = "WRITE_TRUNCATE" if n == 0 else "WRITE_APPEND"
                job, reuse = self._run_load(
                    f"{base_id}_{n}", request.dataset, stage, part, schema, disposition, digest, reuse
                )
                job_ids.append(job.job_id)
            expected = sum(f.entry.rows for f in request.files)
            staged = self._query(f"SELECT COUNT(*) AS n FROM {_q(request.dataset, stage)}")[0]["n"]  # noqa: S608
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

    def _load_config(self, schema: list[bigquery.SchemaField], disposition: str) -> bigquery.LoadJobConfig:
        return bigquery.LoadJobConfig(
            schema=schema,
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=disposition,
            create_disposition="CREATE_IF_NEEDED",
            autodetect=False,
            ignore_unknown_values=False,
            max_bad_records=0,
        )

    def _run_load(
        self,
        job_id: str,
        dataset: str,
        stage: str,
        files: list[StagedFile],
        schema: list[bigquery.SchemaField],
        disposition: str,
        digest: str,
        reuse: bool,
    ) -> tuple[Any, bool]:
        """Run (or, if `reuse`, re-attach to) the load job `job_id`; a pre-existing job that failed (or
        cannot be reused) gets a new id. Returns the job and whether it was re-attached."""
        destination = self._ref(dataset, stage)
        config = self._load_config(schema, disposition)
        uris: list[str] | None = None
        for n in range(MAX_JOB_RESUBMITS):
            jid = job_id if n == 0 else f"{job_id}_r{n}"
            job = self._existing_job(jid)
            if job is not None:
                job = self._wait(job)
                if reuse and _job_error(job) is None and self._get_table(dataset, stage) is not None:
                    log.info("re-attached to load job %s", jid)
                    return job, True
                continue  # a failed (or orphaned) earlier attempt: submit under the next id
            if self.staging is not None and uris is None:
                uris = self._upload(files, digest, job_id.rsplit("_", 1)[-1])
            attached = False
            try:
                if uris is not None:
                    submit = partial(self.client.load_table_from_uri, uris, destination, job_id=jid, job_config=config)
                else:
                    submit = partial(self._load_from_files, files, destination, jid, config)
                job = self._retry(submit)
            except gexc.Conflict:  # submitted meanwhile (or by the run that crashed): attach
                if not reuse:
                    continue
                job, attached = (
                    self._retry(partial(self.client.get_job, jid, location=self.location, retry=CALL_RETRY)),
                    True,
                )
                log.info("load job %s exists: re-attached", jid)
            job = self._wait(job)
            failure = _job_error(job)
            if failure is None:
                if attached and self._get_table(dataset, stage) is None:
                    continue  # its staging table is gone (expired): load again
                return job, attached
            message, transient, data_error = failure
            if attached:
                continue  # an earlier run's failed job: submit under the next id
            if not transient:
                raise LoadError(f"load job {job.job_id}: {message}", data_error=data_error)
            log.warning("load job %s failed transiently (%s): resubmitting", job.job_id, message)
        raise LoadError(f"load job {job_id}: gave up after {MAX_JOB_RESUBMITS} attempts", data_error=False)

    def _existing_job(self, job_id: str) -> Any:
        try:
            return self._retry(lambda: self.client.get_job(job_id, location=self.location, retry=CALL_RETRY))
        except gexc.NotFound:
            return None

    def _wait(self, job: Any) -> Any:
        """Wait for a job to finish; its failure (if any) is read from `job.error_result`."""

        def poll() -> Any:
            try:
                job.result()
            except gexc.GoogleAPICallError:
                if job.state != "DONE":
                    raise  # retried when transient, else reported by `load`
            return job

        return self._retry(poll)

    def _load_from_files(
        self, files: list[StagedFile], destination: str, job_id: str, config: bigquery.LoadJobConfig
    ) -> Any:
        """One upload of the files concatenated (no staging bucket)."""
        with tempfile.TemporaryFile() as joined:
            _concatenate(files, joined)
            return self.client.load_table_from_file(joined, destination, job_id=job_id, job_config=config, rewind=True)

    def _upload(self, files: list[StagedFile], digest: str, part: str) -> list[str]:
        """Upload the staged files, concatenated into objects of up to `MAX_STAGING_OBJECT`; their URIs."""
        assert self.staging is not None
        bucket_name, prefix = self.staging
        bucket = self.storage.bucket(bucket_name)
        groups = _batches(files, MAX_STAGING_OBJECT)
        names = [f"{prefix}_staging/{digest}/{part}/{i:05d}.jsonl" for i in range(len(groups))]

        def put(name: str, group: list[StagedFile]) -> None:
            with tempfile.TemporaryFile() as joined:
                _concatenate(group, joined)
                self._retry(
                    lambda: bucket.blob(name).upload_from_file(joined, rewind=True, content_type="application/x-ndjson")
                )

        with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            list(pool.map(put, names, groups))
        return [f"gs://{bucket_name}/{name}" for name in names]

    def _load_ledger(self, request: LoadRequest, stage_ledger: str) -> None:
        """The batch's ledger rows into their staging table (idempotent: truncates)."""
        data = b"".join(
            orjson.dumps(f.entry.model_dump(mode="json"), option=orjson.OPT_APPEND_NEWLINE) for f in request.files
        )
        config = self._load_config([field_of(c) for c in ledger_schema().columns.values()], "WRITE_TRUNCATE")
        destination = self._ref(request.dataset, stage_ledger)

        def submit() -> Any:
            with tempfile.TemporaryFile() as buffer:
                buffer.write(data)
                buffer.seek(0)
                return self.client.load_table_from_file(
                    buffer, destination, job_config=config, rewind=True, job_id=f"ingestor_ledger_{uuid.uuid4().hex}"
                )

        job = self._wait(self._retry(submit))
        failure = _job_error(job)
        if failure is not None:
            raise LoadError(f"ledger staging job {job.job_id}: {failure[0]}", data_error=False)

    def _commit(self, request: LoadRequest, stage: str, stage_ledger: str) -> str:
        """The one transaction that publishes rows and ledger entries, skipping files already recorded."""
        ds = request.dataset
        names = ", ".join(f"`{validate_identifier(c.name)}`" for c in _storable(request.schema))
        source = validate_identifier(request.data_type.source_file_column)
        ledger_columns = ", ".join(f"`{c}`" for c in ledger_schema().columns)
        # The rows' source column holds the object name, or its base name (`DataType.source_file_for`).
        named = (
            "source_name"
            if request.data_type.source_file_value == "path"
            else r"REGEXP_EXTRACT(source_name, r'[^/]*$')"
        )
        done = (
            f"SELECT f.source_name FROM {_q(ds, stage_ledger)} AS f JOIN {_q(ds, LEDGER_TABLE)} AS l "  # noqa: S608
            "ON l.source_name = f.source_name AND l.checksum = f.checksum"
        )
        history = ""
        if request.history_dataset:  # the loaded files' history rows, before the ledger rows that make them `done`
            columns, select = from_ledger(_q)
            history = (
                f"INSERT INTO {_q(request.history_dataset, HISTORY_TABLE)} ({columns}) SELECT {select} "  # noqa: S608
                f"FROM {_q(ds, stage_ledger)} WHERE source_name NOT IN ({done});\n"
            )
        sql = (
            "BEGIN TRANSACTION;\n"  # noqa: S608
            f"INSERT INTO {_q(ds, request.table)} ({names}) SELECT {names} FROM {_q(ds, stage)} "
            f"WHERE `{source}` NOT IN (SELECT {named} FROM ({done}));\n"
            f"{history}"
            f"INSERT INTO {_q(ds, LEDGER_TABLE)} ({ledger_columns}) SELECT {ledger_columns} "
            f"FROM {_q(ds, stage_ledger)} WHERE source_name NOT IN ({done});\n"
            "COMMIT TRANSACTION;"
        )

        def run() -> str:
            job = self.client.query(sql, job_id_prefix="ingestor_commit_", job_retry=None)
            try:
                job.result()
            except gexc.GoogleAPICallError as error:
                if is_transient(error):
                    raise
                raise LoadError(
                    f"commit {job.job_id}: {error.message}", data_error=bool(_reasons(error) & _DATA_REASONS)
                ) from error
            return str(job.job_id)

        return self._retry(run)

    def _expire(self, dataset: str, name: str) -> None:
        """Let a staging table vanish by itself if a crash leaves it behind."""
        table = self._get_table(dataset, name)
        if table is not None:
            table.expires = datetime.now(UTC) + STAGE_TTL
            try:
                self._retry(lambda: self.client.update_table(table, ["expires"], retry=CALL_RETRY))
            except gexc.GoogleAPICallError as error:
                log.debug("could not set expiry on %s: %s", name, error)

    def _cleanup(self, dataset: str, tables: Iterable[str], digest: str) -> None:
        """Drop the staging tables and staged objects of a finished batch (best effort)."""
        try:
            for name in tables:
                self._retry(
                    partial(self.client.delete_table, self._ref(dataset, name), not_found_ok=True, retry=CALL_RETRY)
                )
            if self.staging is not None:
                bucket_name, prefix = self.staging
                bucket = self.storage.bucket(bucket_name)
                for blob in self._retry(
                    lambda: list(self.storage.list_blobs(bucket, prefix=f"{prefix}_staging/{digest}/"))
                ):
                    self._retry(partial(bucket.delete_blob, blob.name))
        except Exception as error:
            log.warning("staging of batch %s not cleaned up: %s", digest, error)

    # -- history ---------------------------------------------------------------------------------------
    def _ensure_history(self, dataset: str) -> None:
        self._ensure_dataset(dataset)
        table = bigquery.Table(
            self._ref(dataset, HISTORY_TABLE), schema=[field_of(c) for c in history_schema().columns.values()]
        )
        self._retry(lambda: self.client.create_table(table, exists_ok=True, retry=CALL_RETRY))

    def append_history(self, dataset: str, rows: list[dict[str, Any]]) -> None:
        """Append history rows with one load job (atomic); its id is derived from the rows, so a retried
        submission attaches to the job instead of appending twice."""
        self._ensure_history(dataset)
        data = b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in rows)
        config = self._load_config([field_of(c) for c in history_schema().columns.values()], "WRITE_APPEND")
        job_id = f"ingestor_history_{hashlib.sha256(data).hexdigest()[:40]}"

        def submit() -> Any:
            with tempfile.TemporaryFile() as buffer:
                buffer.write(data)
                return self.client.load_table_from_file(
                    buffer, self._ref(dataset, HISTORY_TABLE), job_config=config, rewind=True, job_id=job_id
                )

        try:
            job = self._retry(submit)
        except gexc.Conflict:
            job = self._retry(partial(self.client.get_job, job_id, location=self.location, retry=CALL_RETRY))
        failure = _job_error(self._wait(job))
        if failure is not None:
            raise LoadError(f"history job {job_id}: {failure[0]}", data_error=False)

    def read_history(self, dataset: str, query: str, since: datetime) -> list[dict[str, Any]]:
        """Rows of a query over the history table (see `Warehouse.read_history`); none if it is absent."""
        if self._get_table(dataset, HISTORY_TABLE) is None:
            return []
        sql = query.format(history=_q(dataset, HISTORY_TABLE), since="@since", rows=_q("rows"))
        return [
            dict(row.items()) for row in self._query(sql, [bigquery.ScalarQueryParameter("since", "TIMESTAMP", since)])
        ]

    # -- views -----------------------------------------------------------------------------------------
    def ensure_view(
        self,
        dataset: str,
        name: str,
        columns: list[str],
        sources: ViewSources,
    ) -> None:
        """CREATE OR REPLACE VIEW over the sources (identifiers validated and backtick-quoted)."""
        if self.read_only:
            return
        select = union_view_select(columns, sources, _q, _q)
        self._ensure_dataset(dataset)
        self._query(f"CREATE OR REPLACE VIEW {_q(dataset, name)} AS {select}")

    def close(self) -> None:
        """Close the clients' HTTP sessions."""
        self.client.close()
        if self._storage is not None:
            self._storage.close()
