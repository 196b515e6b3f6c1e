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

Bounded in time: every request has a timeout (`INGESTOR_BQ_CALL_TIMEOUT`) and every operation a deadline
(`INGESTOR_BQ_JOB_TIMEOUT`): a job is polled in short slices, each poll and retry logged at DEBUG with its id.
Past the deadline the load fails as an outage (the files stay in landing); a stop ends every wait at once, and
the job runs on: the next run re-attaches to it (load jobs) or repeats it (a commit skips what the ledger holds).

Modules, one concern each: `client` (the URL, the client and its endpoint, calls with retries), `errors`
(which errors are transient, which refuse the rows), `waits` (deadlines, polling a job), `schema` (the
dialect, type map and DDL), `jobs` (load jobs: ids, re-attaching, resubmits, limits), `upload`
(concatenating staged files, the staging bucket), `warehouse` (`BigQueryWarehouse`: the load and its commit
transaction with the ledger and history rows).
"""

from ingestor.warehouse.bigquery.warehouse import BigQueryWarehouse

__all__ = ["BigQueryWarehouse"]
