"""Load jobs: ids derived from the batch (so a re-run finds the job a crashed run submitted), re-attaching
or resubmitting under the next id, the job's limits (a batch beyond them is split), and small loads of
rows held in memory (the ledger's, the history's)."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from functools import partial
from typing import IO, Any

from google.api_core import exceptions as gexc
from google.cloud import bigquery

from ingestor.schema import Struct
from ingestor.staging.staged import StagedFile
from ingestor.warehouse import LoadRequest, WarehouseUnavailable
from ingestor.warehouse.bigquery.client import Api
from ingestor.warehouse.bigquery.errors import job_error
from ingestor.warehouse.bigquery.schema import fields_of
from ingestor.warehouse.bigquery.upload import StagingBucket, batches, concatenate
from ingestor.warehouse.bigquery.waits import Deadline

log = logging.getLogger("ingestor.warehouse.bigquery")

MAX_JOB_BYTES = 4 * 1024**4  # BigQuery allows 15 TB per load job (and 10,000 URIs: 4,096 staging objects)
MAX_JOB_RESUBMITS = 20


def batch_digest(request: LoadRequest) -> str:
    """What identifies a batch across runs and machines: table, files with checksums, attempt."""
    h = hashlib.sha256(f"{request.dataset}.{request.table}\n{request.attempt}\n".encode())
    for f in sorted(request.files, key=lambda f: f.entry.source_name):
        h.update(f"{f.entry.source_name}\0{f.entry.checksum}\n".encode())
    return h.hexdigest()[:40]


def job_parts(files: list[StagedFile]) -> list[list[StagedFile]]:
    """The files of one batch in groups a load job takes (one job unless beyond MAX_JOB_BYTES)."""
    return batches(files, MAX_JOB_BYTES)


def load_config(schema: list[bigquery.SchemaField], disposition: str) -> bigquery.LoadJobConfig:
    """An NDJSON load with an explicit schema (never autodetected) that refuses any bad record."""
    return bigquery.LoadJobConfig(
        schema=schema,
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        write_disposition=disposition,
        create_disposition="CREATE_IF_NEEDED",
        autodetect=False,
        ignore_unknown_values=False,
        max_bad_records=0,
    )


def send_file(api: Api, stream: IO[bytes], destination: str, job_id: str, config: Any, deadline: Deadline) -> Any:
    """Submit a load job of this id with `stream`'s bytes, once (our retry repeats it, up to the deadline)."""
    return api.client.load_table_from_file(
        stream,
        destination,
        job_id=job_id,
        job_config=config,
        rewind=True,
        num_retries=0,
        timeout=deadline.timeout(api.limits.call),
    )


def load_rows(api: Api, data: bytes, destination: str, schema: Struct, disposition: str, job_id: str) -> Any:
    """NDJSON rows held in memory loaded by a job of this id, submitted (or, if it exists, attached to) and
    waited for under one deadline: the finished job, its failure (if any) for the caller to read."""
    config = load_config(fields_of(list(schema.columns.values())), disposition)
    deadline = api.deadline()

    def submit() -> Any:
        with tempfile.TemporaryFile() as buffer:
            buffer.write(data)
            buffer.seek(0)
            return send_file(api, buffer, destination, job_id, config, deadline)

    try:
        job = api.retry(submit, f"load job {job_id}", deadline)
        log.debug("submitted load job %s", job_id)
    except gexc.Conflict:  # our own submission, whose answer was lost: attach
        job = api.get_job(job_id)
        log.debug("load job %s exists: re-attached", job_id)
    return api.wait(job, deadline)


class LoadJobs:
    """The load jobs of staged files into a staging table: by URI from the staging bucket when there is
    one (a re-attached job needs no new upload), else with the files' bytes sent with the job."""

    def __init__(self, api: Api, bucket: StagingBucket | None) -> None:
        self.api = api
        self.bucket = bucket

    def run_load(
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
        cannot be reused) gets a new id. All of it, uploads and resubmissions included, within one deadline.
        Returns the job and whether it was re-attached."""
        api = self.api
        destination = api.ref(dataset, stage)
        config = load_config(schema, disposition)
        uris: list[str] | None = None
        deadline = api.deadline()
        for n in range(MAX_JOB_RESUBMITS):
            jid = job_id if n == 0 else f"{job_id}_r{n}"
            job = api.existing_job(jid)
            if job is not None:
                job = api.wait(job, deadline)
                if reuse and job_error(job) is None and api.get_table(dataset, stage) is not None:
                    log.info("re-attached to load job %s", jid)
                    return job, True
                continue  # a failed (or orphaned) earlier attempt: submit under the next id
            if self.bucket is not None and uris is None:
                uris = self.bucket.upload(files, digest, job_id.rsplit("_", 1)[-1])
            attached = False
            try:
                submit = partial(self._submit, files, uris, destination, jid, config, deadline)
                job = api.retry(submit, f"load job {jid}", deadline)
                log.debug("submitted load job %s", jid)
            except gexc.Conflict:  # submitted meanwhile (or by the run that crashed): attach
                if not reuse:
                    continue
                job, attached = api.get_job(jid), True
                log.info("load job %s exists: re-attached", jid)
            job = api.wait(job, deadline)
            failure = job_error(job)
            if failure is None:
                if attached and api.get_table(dataset, stage) is None:
                    continue  # its staging table is gone (expired): load again
                return job, attached
            message, transient, kind = failure
            if attached:
                continue  # an earlier run's failed job: submit under the next id
            if not transient:
                raise kind(f"load job {job.job_id}: {message}")
            log.warning("load job %s failed transiently (%s): resubmitting", job.job_id, message)
        raise WarehouseUnavailable(f"load job {job_id}: gave up after {MAX_JOB_RESUBMITS} attempts")

    def _submit(
        self,
        files: list[StagedFile],
        uris: list[str] | None,
        destination: str,
        job_id: str,
        config: bigquery.LoadJobConfig,
        deadline: Deadline,
    ) -> Any:
        """Submit the load job: by URI from the staging bucket, or with the files' bytes concatenated."""
        api = self.api
        if uris is not None:
            bounds = api.bounds(deadline, f"load job {job_id}")
            return api.client.load_table_from_uri(uris, destination, job_id=job_id, job_config=config, **bounds)
        with tempfile.TemporaryFile() as joined:
            concatenate(files, joined)
            return send_file(api, joined, destination, job_id, config, deadline)
