"""The configuration tree: CLI flags, then environment variables, then `.env`.

`Settings` is built once, at the edge (the CLI, the container's entrypoint), and handed down: no module
below this one reads the environment. Each group is a nested model with the environment names users
already know (`INGESTOR_WORKERS`, `INGESTOR_BQ_LOCATION`, `GCP_PROJECT_ID`...)."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingestor.budget import MAX_RECORD_BYTES, Budget, find_budget
from ingestor.environment import ENV_FILE
from ingestor.environment import PluginSettings as PluginSettings  # a group of the tree, read without it
from ingestor.environment import split as _split
from ingestor.names import validate_identifier

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")  # GCS's rules (dotted names of up to 222: not here)
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class _Group(BaseSettings):
    """A group of settings read from the environment by its own names (see each field's alias)."""

    model_config = SettingsConfigDict(env_file=ENV_FILE, extra="ignore", frozen=True, populate_by_name=True)


class ServiceSettings(_Group):
    """A plugin's own settings (credentials, an API URL, a window...): subclass it with one field per
    setting, named in the environment by its `validation_alias` (secrets as `SecretStr`), and name the class
    on the `Service` (`settings="package.module:Class"`). `ingestor fetch` builds it from the environment and
    `.env` at the edge (an invalid value: a configuration error, exit 2) and hands it to the fetcher as
    `FetchRequest.settings`. An empty variable counts as unset (the field's default)."""

    model_config = SettingsConfigDict(env_ignore_empty=True)


class StagingSettings(_Group):
    """How files are read and conformed before a load."""

    # files staged at once: the columnar path's threads, the row path's processes (None: the CPUs, at most 4)
    workers: int | None = Field(None, ge=1, validation_alias="INGESTOR_WORKERS")
    columnar: bool = Field(True, validation_alias="INGESTOR_COLUMNAR")  # the Arrow path where the warehouse takes Arrow
    # files smaller than this are staged row by row (Arrow's fixed cost per file is higher)
    columnar_min_bytes: int = Field(64 * 1024, ge=0, validation_alias="INGESTOR_COLUMNAR_MIN_BYTES")
    # the longest line (record) a landing file may hold; None: from the memory budget (see ingestor.budget)
    max_record_bytes: int | None = Field(
        None, ge=1024, le=MAX_RECORD_BYTES, validation_alias="INGESTOR_MAX_RECORD_BYTES"
    )
    # a data type's files load in parts of at most these landing bytes and files; None: from the memory budget
    part_bytes: int | None = Field(None, ge=1, validation_alias="INGESTOR_PART_BYTES")
    part_files: int | None = Field(None, ge=1, validation_alias="INGESTOR_PART_FILES")


class DuckDBSettings(_Group):
    """The embedded warehouse."""

    memory_mb: int | None = Field(None, ge=16, validation_alias="INGESTOR_DUCKDB_MEMORY_MB")  # None: the budget's


class BigQuerySettings(_Group):
    """The BigQuery warehouse; a `bigquery://` URL's own `?location=`/`?staging=` win over these."""

    project: str | None = Field(None, validation_alias="GCP_PROJECT_ID")  # when the URL names none
    location: str = Field("US", validation_alias="INGESTOR_BQ_LOCATION")
    staging_bucket: str | None = Field(None, validation_alias="INGESTOR_STAGING_BUCKET")  # gs://bucket for load files
    emulator_host: str | None = Field(None, validation_alias="BIGQUERY_EMULATOR_HOST")  # a local BigQuery API server
    # seconds one request may take (its HTTP timeout, the client's own retries of it included)
    call_timeout: float = Field(60.0, gt=0, validation_alias="INGESTOR_BQ_CALL_TIMEOUT")
    # seconds one operation may take as a whole: a job from its submission to its end (polls, retries and
    # resubmissions included), or a call with the ingestor's own retries
    job_timeout: float = Field(600.0, gt=0, validation_alias="INGESTOR_BQ_JOB_TIMEOUT")


class GCSSettings(_Group):
    """The GCS landing zone."""

    project: str | None = Field(None, validation_alias="GCP_PROJECT_ID")
    emulator_host: str | None = Field(None, validation_alias="STORAGE_EMULATOR_HOST")  # a local GCS API server
    # seconds one call may take: each request's HTTP timeout, and no retry of it starts later
    timeout: float = Field(60.0, gt=0, validation_alias="INGESTOR_GCS_TIMEOUT")


class LeaseSettings(_Group):
    """One run at a time per service (see ingestor.run.lease)."""

    ttl: float = Field(900.0, gt=0, validation_alias="INGESTOR_LEASE_TTL")  # seconds a lease lives without renewal
    wait: float = Field(0.0, ge=0, validation_alias="INGESTOR_LEASE_WAIT")  # seconds to wait for a busy lease


class HttpSettings(_Group):
    """The fetchers' HTTP: retries and the contact in the User-Agent."""

    attempts: int = Field(5, ge=1, validation_alias="INGESTOR_HTTP_ATTEMPTS")
    """Tries of a request (429, 5xx and dropped connections are retried)."""
    backoff: float = Field(1.0, ge=0, validation_alias="INGESTOR_HTTP_BACKOFF")
    """Seconds of the first wait between tries (then doubling, with jitter; `Retry-After` wins)."""
    max_wait: float = Field(120.0, ge=0, validation_alias="INGESTOR_HTTP_MAX_WAIT")
    """The longest wait between tries, in seconds."""
    contact: str = Field("", validation_alias="INGESTOR_FETCH_CONTACT")
    """Added to the User-Agent, e.g. an e-mail address (chess.com asks for one)."""


class Settings(BaseSettings):
    """Everything a run can be told. Each field `x` is also `INGESTOR_X` in the environment."""

    model_config = SettingsConfigDict(env_prefix="INGESTOR_", env_file=ENV_FILE, extra="ignore")

    service: Annotated[list[str], NoDecode] = Field(default_factory=list)
    env: str = "dev"
    data_types: Annotated[list[str] | None, NoDecode] = None
    dry_run: bool = False
    landing: str | None = None
    warehouse: str | None = None
    data_dir: Path = Path("ingestor-data")
    bucket: str | None = None
    log_level: LogLevel = Field("INFO", validation_alias=AliasChoices("log_level", "INGESTOR_LOG_LEVEL", "LOG_LEVEL"))
    log_format: Literal["text", "json"] = "text"
    json_output: bool = Field(False, validation_alias=AliasChoices("json_output", "INGESTOR_JSON"))
    memory_mb: int | None = Field(None, ge=64)  # the run's memory budget; None: the cgroup's limit (ingestor.budget)

    rebuild_backup: bool = True  # `ingestor rebuild` keeps the replaced table as `{table}__before_rebuild_...`
    history_dataset: str = "dp_ops_{env}"  # the run history's dataset (see ingestor.ops.history)
    latest_views: bool = True  # a `{table}__latest` view per data type with a primary key (see ingestor.run.latest)
    notify: Annotated[list[str], NoDecode] = Field(default_factory=list)  # apprise URLs (see ingestor.ops.notify)
    notify_on: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["failed", "rejected", "stale"])
    metrics_push: str | None = None  # a Prometheus Pushgateway URL (see ingestor.ops.metrics)
    metrics_file: Path | None = None  # a file in the Prometheus text format, for node exporter

    task_index: int = Field(
        0, ge=0, validation_alias=AliasChoices("task_index", "INGESTOR_TASK_INDEX", "CLOUD_RUN_TASK_INDEX")
    )
    task_count: int = Field(
        1, ge=1, validation_alias=AliasChoices("task_count", "INGESTOR_TASK_COUNT", "CLOUD_RUN_TASK_COUNT")
    )

    staging: StagingSettings = Field(default_factory=lambda: StagingSettings.model_validate({}))
    duckdb: DuckDBSettings = Field(default_factory=lambda: DuckDBSettings.model_validate({}))
    bigquery: BigQuerySettings = Field(default_factory=lambda: BigQuerySettings.model_validate({}))
    gcs: GCSSettings = Field(default_factory=lambda: GCSSettings.model_validate({}))
    lease: LeaseSettings = Field(default_factory=lambda: LeaseSettings.model_validate({}))
    plugins: PluginSettings = Field(default_factory=PluginSettings.from_environment)  # (read without the tree)
    http: HttpSettings = Field(default_factory=lambda: HttpSettings.model_validate({}))

    _split_service = field_validator("service", mode="before")(_split)
    _split_types = field_validator("data_types", mode="before")(_split)
    _split_notify_on = field_validator("notify_on", mode="before")(_split)

    @field_validator("notify", mode="before")
    @classmethod
    def _notify(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value  # apprise itself splits "url1, url2"

    @field_validator("notify_on")
    @classmethod
    def _notify_on(cls, value: list[str]) -> list[str]:
        unknown = set(value) - {"failed", "rejected", "stale"}
        if unknown:
            raise ValueError(f"unknown events {sorted(unknown)}: use failed, rejected, stale")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: str) -> str:
        return validate_identifier(value, "environment")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and not (BUCKET_NAME.fullmatch(value) and ".." not in value):
            raise ValueError(
                f"{value!r} is not a bucket name (3-63 lower-case letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit)"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _history(self) -> Settings:
        self.history_dataset_name  # noqa: B018 (validates it)
        return self

    @cached_property
    def budget(self) -> Budget:
        """The run's memory budget and its shares (read once: the cgroup's limit is looked up here)."""
        return find_budget(
            self.memory_mb,
            duckdb_mb=self.duckdb.memory_mb,
            record_bytes=self.staging.max_record_bytes,
            part_bytes=self.staging.part_bytes,
            part_files=self.staging.part_files,
            workers=self.staging.workers,
        )

    @property
    def history_dataset_name(self) -> str:
        """The run history's dataset for this environment."""
        return validate_identifier(self.history_dataset.format(env=self.env), "history dataset")

    @property
    def bucket_name(self) -> str:
        """The bucket (or local folder) of the landing zone: `ela-dp-{env}` unless set."""
        return self.bucket or f"ela-dp-{self.env}"

    @property
    def landing_url(self) -> str:
        """`--landing` (`gs://` alone: the bucket `bucket_name`), else the embedded default `{data_dir}/{bucket}`."""
        if self.landing is not None and self.landing.rstrip("/") in ("gs:", "gs:/"):
            return f"gs://{self.bucket_name}"
        return self.landing or (self.data_dir / self.bucket_name).resolve().as_uri()

    @property
    def warehouse_url(self) -> str:
        """`--warehouse`, else the embedded default `{data_dir}/warehouse_{env}.duckdb`. BigQuery with a GCS
        landing zone stages its load files in the landing bucket (`?staging=`) unless told otherwise."""
        if self.warehouse is None:
            return "duckdb://" + str((self.data_dir / f"warehouse_{self.env}.duckdb").resolve())
        landing = self.landing_url
        if (
            self.warehouse.startswith("bigquery://")
            and landing.startswith("gs://")
            and "staging=" not in self.warehouse
            and not self.bigquery.staging_bucket
        ):
            bucket = landing.removeprefix("gs://").split("/", 1)[0]
            return f"{self.warehouse}{'&' if '?' in self.warehouse else '?'}staging=gs://{bucket}"
        return self.warehouse
