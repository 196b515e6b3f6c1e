"""What `ingestor fetch` asks one service's fetcher, what the fetcher answers, and how it says it failed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, computed_field, model_validator
from pydantic_settings import BaseSettings

from ingestor.errors import IngestorError
from ingestor.landing import Landing
from ingestor.settings import HttpSettings

ServiceSettingsT = TypeVar("ServiceSettingsT", bound=BaseSettings)


class FetchStatus(StrEnum):
    """How one data type's fetch ended."""

    FETCHED = "fetched"
    """New files written."""
    UP_TO_DATE = "up_to_date"
    """Nothing new since the bookmark: nothing written."""
    PLANNED = "planned"
    """Dry run: these files would be written."""
    FAILED = "failed"
    """See `error`; the data type's bookmark is unchanged."""


class FetchError(IngestorError, RuntimeError):
    """A data type could not be fetched (the message says why, without credentials)."""


class AuthError(FetchError):
    """The service refused the credentials: every remaining data type of the service fails."""


class ConfigError(FetchError):
    """The fetcher is not configured (missing username, credentials...): exit code 2."""


class FetchRequest(BaseModel):
    """What `ingestor fetch` asks one service's fetcher, with the settings built at the edge."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    data_types: list[str] | None = None
    """The data types asked for (`--data-types`); None: every data type of the service."""
    since: date | None = None
    """Backfill from this day (UTC), ignoring bookmarks (`--since`)."""
    days: int | None = Field(None, ge=1)
    """Backfill the last N days, ignoring bookmarks (`--days`)."""
    limit: int | None = Field(None, ge=1)
    """At most N records per data type (`--limit`; bookmarks stop there)."""
    dry_run: bool = False
    """Call the API, write nothing (no files, no bookmarks)."""
    landing: SkipValidation[Landing] = Field(exclude=True)
    """The landing zone the files go to."""
    now: datetime = Field(default_factory=lambda: datetime.now(UTC))
    """The fetch's time (timezone-aware): the files' timestamps and the backfill window come from it."""
    http: HttpSettings = Field(default_factory=HttpSettings.model_construct)
    """The HTTP retries and the User-Agent's contact (`http_client` takes them)."""
    settings: SkipValidation[BaseSettings | None] = Field(None, exclude=True, repr=False)
    """The service's own settings, built from the class its `Service` names (see `settings_as`)."""

    @model_validator(mode="after")
    def _one_window(self) -> FetchRequest:
        if self.since is not None and self.days is not None:
            raise ValueError("give --since or --days, not both")
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return self

    def wants(self, data_type: str) -> bool:
        """Whether this data type was asked for."""
        return self.data_types is None or data_type in self.data_types

    @property
    def start(self) -> date | None:
        """First day of a backfill (`--since`, or today minus `--days` + 1), None when incremental."""
        if self.since is not None:
            return self.since
        if self.days is not None:
            return self.now.astimezone(UTC).date() - timedelta(days=self.days - 1)
        return None

    def settings_as(self, kind: type[ServiceSettingsT]) -> ServiceSettingsT:
        """The service's own settings (the class its `Service` names as `settings`), checked to be a `kind`."""
        if not isinstance(self.settings, kind):
            given = "none" if self.settings is None else type(self.settings).__name__
            raise ConfigError(f"the fetcher expects {kind.__name__} settings, got {given}: name it on the Service")
        return self.settings


class DataTypeFetch(BaseModel):
    """What fetching one data type did."""

    data_type: str
    """The data type."""
    status: FetchStatus
    """How its fetch ended."""
    files: list[str] = Field(default_factory=list)
    """The landing files written (or planned)."""
    records: int = 0
    """The records in them."""
    bookmark_before: Any = None
    """The bookmark the fetch started from."""
    bookmark_after: Any = None
    """The bookmark it left (unchanged when it failed)."""
    error: str | None = None
    """Why it failed, if it did."""
    notes: list[str] = Field(default_factory=list)
    """What the fetcher noted (`TypeFetch.note`)."""


class FetchResult(BaseModel):
    """What fetching one service did."""

    service: str
    """The service fetched."""
    landing: str
    """The landing zone's URL."""
    dry_run: bool = False
    """Nothing was written."""
    started_at: datetime
    """When the fetch started (UTC)."""
    finished_at: datetime | None = None
    """When it ended (UTC)."""
    data_types: list[DataTypeFetch] = Field(default_factory=list)
    """One entry per data type fetched."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        """No data type failed."""
        return all(d.status != FetchStatus.FAILED for d in self.data_types)


def failed_result(service: str, request: FetchRequest, types: Iterable[str], error: str) -> FetchResult:
    """A result where every requested data type failed with `error` (e.g. not implemented)."""
    now = datetime.now(UTC)
    outcomes = [DataTypeFetch(data_type=t, status=FetchStatus.FAILED, error=error) for t in types if request.wants(t)]
    return FetchResult(
        service=service,
        landing=request.landing.url,
        dry_run=request.dry_run,
        started_at=now,
        finished_at=now,
        data_types=outcomes,
    )
