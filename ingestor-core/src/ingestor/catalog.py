"""What a data type is, and which data type a landing file belongs to."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ingestor.errors import ReasonCode, RefusedError
from ingestor.names import validate_identifier
from ingestor.schema import Declared, Kind

EXTENSIONS = (".jsonl.gz", ".jsonl")
CORE_TABLE_PREFIX = "_ingestor_"  # the core's own tables (the ledger, the run history): no data type's


@dataclass(frozen=True)
class SourceFile:
    """What a normalizer knows of the file a record comes from."""

    name: str
    """The object name from the landing root, e.g. `chess/landing/2025_01_01_00_00_chess_bob_games.jsonl`."""
    attributes: dict[str, str] = field(default_factory=dict)
    """The named groups of the file pattern that matched the name (e.g. a chess username)."""


Normalizer = Callable[[dict[str, Any], SourceFile], dict[str, Any] | list[dict[str, Any]]]
"""A data type's per-record function: one record in; one row out, a list of rows (e.g. a payload that holds many
readings), or [] to drop the record (counted in the file's outcome). Anything else rejects the file, plainly."""


@runtime_checkable
class VouchingNormalizer(Protocol):
    """A normalizer that can vouch for files it leaves unchanged: those are staged column-wise,
    several times faster (see `ingestor.staging.columnar`)."""

    def __call__(self, record: dict[str, Any], source: SourceFile) -> dict[str, Any] | list[dict[str, Any]]:
        """Normalize one record (see `Normalizer`)."""

    def leaves_unchanged(self, keys: frozenset[tuple[str, ...]], source: SourceFile) -> bool:
        """Whether every record of a file whose keys are among `keys` (each the path of keys leading to it; arrays
        are transparent; the set may hold keys the file lacks) comes out of the normalizer as it went in."""


LeavesUnchanged = Callable[[frozenset[tuple[str, ...]], SourceFile], bool]


def leaves_unchanged(normalize: Normalizer | None) -> LeavesUnchanged | None:
    """The normalizer's `leaves_unchanged`, if it is a `VouchingNormalizer`."""
    return normalize.leaves_unchanged if isinstance(normalize, VouchingNormalizer) else None


class DataType(BaseModel):
    """One kind of landing file of one service, and the table its records go to."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    service: str
    """The service it belongs to (a plugin's `Service` name)."""
    name: str
    """The data type's name, unique within its service (`service.name` is its key everywhere)."""
    dataset: str
    """The dataset (a DuckDB schema) of its table; may use `{env}`, e.g. `dp_lake_{env}`."""
    table: str
    """The table its records go to; may use `{env}`."""
    file_patterns: tuple[str, ...] = ()
    """Regular expressions matched against the whole file name without its `.jsonl`/`.jsonl.gz` extension; the
    default is the fetchers' convention `<anything>_<service>_<name>`, an anchored suffix. Named groups (e.g.
    `(?P<username>...)`) reach the normalizer as `SourceFile.attributes`."""
    primary_key: tuple[str, ...] = ()
    """The columns that identify a record, shown by `list-types`: documentation, never enforced (no deduplication)."""
    partition_by: str | None = None
    """The column a new table is partitioned by, if any."""
    cluster_by: tuple[str, ...] = ()
    """The columns a new table is clustered by (BigQuery)."""
    schema_hints: dict[str, Kind] = Field(default_factory=dict)
    """A column's type where inference would be wrong (`TIMESTAMP`, `JSON`...); a value that does not fit goes to
    `<name>__v_json`. Unlike `columns`, a hinted column exists only once a record has it."""
    columns: tuple[Declared, ...] = ()
    """Columns the table has from its first load, with their type, even while every value is null (`Declared`)."""
    column_defaults: dict[str, str] = Field(default_factory=dict)
    """STRING columns every row has: a record's own non-null value, else this one (e.g. the seed's `data_type`)."""
    inserted_at_column: str = "_dp_inserted_at"
    """The metadata column holding the run's start (TIMESTAMP)."""
    source_file_column: str = "_source_file"
    """The metadata column holding the landing file's name (see `source_file_value`)."""
    source_file_value: Literal["path", "name"] = "path"
    """What the source file column holds: the landing object name (`path`) or its base name (`name`, the seed's)."""
    description: str = ""
    """One line for readers, shown by `ingestor list-types`."""
    expected_every: str | None = None
    """How often new files are expected: `hourly`, `daily`, `weekly` or a duration (`36h`, `2d`, `90m`). Past
    it (with no file loaded since) `ingestor status` calls the type stale. None: no expectation."""
    date_column: str | None = None
    """The column holding the date a record is about, for `ingestor status` (the days covered, the days
    missing): a DATE, a TIMESTAMP's UTC date, or a STRING's leading `YYYY-MM-DD`. Not with `date_group`."""
    date_group: str | None = None
    """The named group of the file patterns holding the date a file's records are about (`YYYY_MM_DD`,
    `YYYY-MM-DD` or `YYYYMMDD` at its start). Not with `date_column`."""
    normalize: Normalizer | None = Field(default=None, exclude=True, repr=False)
    """The per-record function (see `Normalizer` and `VouchingNormalizer`). None: records load as they are."""

    @field_validator("service", "name", "inserted_at_column", "source_file_column")
    @classmethod
    def _identifier(cls, value: str) -> str:
        return validate_identifier(value)

    @field_validator("expected_every")
    @classmethod
    def _expected(cls, value: str | None) -> str | None:
        if value is not None:
            expectation(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> DataType:
        if not self.file_patterns:
            object.__setattr__(self, "file_patterns", (rf".+_{re.escape(self.service)}_{re.escape(self.name)}",))
        for pattern in self.file_patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid file pattern {pattern!r}: {error}") from None
        self.dataset_for("dev")
        if self.table_for("dev").lower().startswith(CORE_TABLE_PREFIX):  # (DuckDB ignores case)
            raise ValueError(f"table {self.table!r}: names starting with {CORE_TABLE_PREFIX} are the core's own")
        for column in (*self.primary_key, *self.cluster_by, *([self.partition_by] if self.partition_by else [])):
            validate_identifier(column.split(".")[-1], "column")
        for column in self.column_defaults:
            validate_identifier(column, "column")
        self._check_date()
        pending = list(self.columns)
        while pending:
            declared = pending.pop()
            validate_identifier(declared.name, "declared column")
            pending.extend(declared.fields)
        return self

    def _check_date(self) -> None:
        """A date column is an identifier; a date group is a named group of a file pattern; not both."""
        if self.date_column is not None and self.date_group is not None:
            raise ValueError("declare date_column or date_group, not both")
        if self.date_column is not None:
            validate_identifier(self.date_column, "date column")
        groups = {name for pattern in self.file_patterns for name in re.compile(pattern).groupindex}
        if self.date_group is not None and self.date_group not in groups:
            raise ValueError(f"date_group {self.date_group!r} is not a named group of the file patterns")

    @property
    def key(self) -> str:
        """`service.name`, unique across plugins."""
        return f"{self.service}.{self.name}"

    def source_file_for(self, object_name: str) -> str:
        """What the source file column holds for a landing object."""
        return object_name.rsplit("/", 1)[-1] if self.source_file_value == "name" else object_name

    def dataset_for(self, env: str) -> str:
        """The dataset (DuckDB schema) for an environment."""
        return validate_identifier(self.dataset.format(env=env), "dataset")

    def table_for(self, env: str) -> str:
        """The table name for an environment."""
        return validate_identifier(self.table.format(env=env), "table")

    def match(self, stem: str) -> dict[str, str] | None:
        """The pattern's named groups if the file name (without extension) is of this type."""
        for pattern in self.file_patterns:
            found = re.fullmatch(pattern, stem)
            if found:
                return {k: v for k, v in found.groupdict().items() if v is not None}
        return None


# A named cadence tolerates a late run: a daily fetch that ran at 06:10 yesterday is not stale at 06:15.
CADENCES = {"hourly": timedelta(hours=2), "daily": timedelta(hours=36), "weekly": timedelta(days=8)}
_DURATION = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def expectation(every: str) -> timedelta:
    """How long a data type may go without a new file: a named cadence or a duration like `36h`."""
    if every in CADENCES:
        return CADENCES[every]
    found = _DURATION.fullmatch(every)
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"invalid expected_every {every!r}: use {', '.join(CADENCES)} or a duration like 36h, 2d, 90m")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


class AmbiguousFile(RefusedError, ValueError):
    """A file name that two data types claim with equal specificity."""

    code = ReasonCode.AMBIGUOUS_DATA_TYPE


@dataclass(frozen=True)
class Match:
    """A landing file's data type, with the attributes its name carries."""

    data_type: DataType
    attributes: dict[str, str]


def split_extension(filename: str) -> tuple[str, str] | None:
    """(stem, extension) for a supported NDJSON file name, else None."""
    for ext in EXTENSIONS:
        if filename.endswith(ext) and len(filename) > len(ext):
            return filename[: -len(ext)], ext
    return None


class Catalog:
    """Every data type the installed plugins provide, by service."""

    def __init__(self, data_types: Iterable[DataType]) -> None:
        self._types: dict[str, dict[str, DataType]] = {}
        for dt in data_types:
            by_name = self._types.setdefault(dt.service, {})
            if dt.name in by_name:
                raise ValueError(f"data type {dt.key} is declared twice")
            by_name[dt.name] = dt

    def services(self) -> list[str]:
        """Service names, sorted."""
        return sorted(self._types)

    def types(self, service: str | None = None) -> list[DataType]:
        """Data types of one service (or all), in declaration order."""
        services = [service] if service else self.services()
        return [dt for s in services for dt in self._types.get(s, {}).values()]

    def get(self, service: str, name: str) -> DataType | None:
        """One data type, or None."""
        return self._types.get(service, {}).get(name)

    def match(self, service: str, filename: str) -> Match | None:
        """The one data type of `service` this file name belongs to; the longest type name wins."""
        split = split_extension(filename)
        if split is None:
            return None
        stem = split[0]
        found = [(dt, attrs) for dt in self._types.get(service, {}).values() if (attrs := dt.match(stem)) is not None]
        if not found:
            return None
        found.sort(key=lambda item: len(item[0].name), reverse=True)
        if len(found) > 1 and len(found[0][0].name) == len(found[1][0].name):
            raise AmbiguousFile(f"matches several data types: {', '.join(dt.name for dt, _ in found)}")
        return Match(found[0][0], found[0][1])


class ViewSource(BaseModel):
    """One table feeding a view: output column -> source column, plus constant columns."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    """The source table's dataset; may use `{env}`."""
    table: str
    """The source table; may use `{env}`."""
    columns: dict[str, str] = Field(default_factory=dict)
    """Output column -> this table's column; output columns missing here are NULL."""
    constants: dict[str, str] = Field(default_factory=dict)
    """Output column -> a constant string for every row of this source (e.g. which source it is)."""

    @model_validator(mode="after")
    def _check(self) -> ViewSource:
        for name in (*self.columns, *self.columns.values(), *self.constants, *self.constants.values()):
            validate_identifier(name, "view column or constant")
        return self


class View(BaseModel):
    """A view a plugin keeps in the warehouse: the UNION ALL of its sources' rows, e.g. a legacy
    combined table that downstream models still read. Columns a source lacks are NULL."""

    model_config = ConfigDict(frozen=True)

    service: str
    """The service that keeps it (refreshed after that service's loads)."""
    dataset: str
    """The view's dataset; may use `{env}`."""
    name: str
    """The view's name; may use `{env}`."""
    columns: tuple[str, ...]
    """The view's columns, in order."""
    sources: tuple[ViewSource, ...]
    """The tables whose rows it unites."""

    @model_validator(mode="after")
    def _check(self) -> View:
        for name in self.columns:
            validate_identifier(name, "view column")
        validate_identifier(self.dataset.format(env="dev"), "dataset")
        validate_identifier(self.name.format(env="dev"), "view")
        return self
