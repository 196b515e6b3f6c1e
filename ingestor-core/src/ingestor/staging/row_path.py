"""The row path: one landing file staged record by record. Each record is read (streaming NDJSON),
normalized by the plugin, conformed to the schema (which it may grow) and written as one NDJSON row
with the metadata columns; a file is atomic: one bad line rejects it, with the reason.

Whose fault a failure is decides where the file goes. The file's own (a malformed line, a record
nested too deeply) and the plugin's (an exception its normalizer raises, a ValueError, KeyError,
TypeError...; a return that is not rows) reject it. The environment's (`errors.ENVIRONMENT`: an
OSError or MemoryError, wherever raised, inside the normalizer's call too: a full disk, an I/O error
reading the landing file or writing the staged one, no memory) and any other error of the core's own
code leave it in landing, FAILED, for the next run: a good file is never rejected for them."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ingestor.catalog import DataType, SourceFile
from ingestor.errors import ENVIRONMENT, ReasonCode, RefusedError, cause, plugin_error
from ingestor.landing import Content, FileChanged, Landing, LandingFile, Stream, printable
from ingestor.schema import SchemaBuilder
from ingestor.staging.reader import MalformedFile, read_records
from ingestor.staging.staged import ARROW_SUFFIX

log = logging.getLogger("ingestor.staging")


@dataclass
class StageTask:
    """One landing file to stage."""

    file: LandingFile
    attributes: dict[str, str]
    path: Path
    skip: int = 0  # bytes at the start already loaded (an earlier version of a file appended to since)
    checksum: str | None = None  # the content's, when read before (planned, staged once): staging must read the same
    landed_as: str | None = None  # the name it landed under, if it is read from elsewhere (archive/, by a rebuild)

    @property
    def source_name(self) -> str:
        """The landing object name its rows carry (their source file column) and its normalizer is told."""
        return self.landed_as or self.file.name


@dataclass
class Staged:
    """What staging one file gave: rows, or the `reason` it has none to load: the file is rejected
    for it, unless `failed` (the environment's fault or the core's): then it stays in landing."""

    rows: int = 0
    reason: str | None = None
    code: ReasonCode | None = None  # the reason's code
    failed: bool = False  # the reason lies outside the file (a full disk, no memory...): FAILED, not rejected
    path: Path | None = None  # the staged file: NDJSON, or Arrow IPC from the columnar path
    widest: int = 0  # bytes of the longest NDJSON row (what the warehouse's JSON reader must hold)
    dropped: int = 0  # records the normalizer returned no row for
    null_lines: int = 0  # lines that were JSON `null`: no record, skipped
    checksum: str | None = None  # of the landing file's content, as it was read (what its ledger entry records)

    @property
    def columnar(self) -> bool:
        """Whether the columnar path staged it."""
        return self.path is not None and self.path.suffix == ARROW_SUFFIX


def stage_file(
    landing: Landing,
    dt: DataType,
    task: StageTask,
    builder: SchemaBuilder,
    metadata: dict[str, Any],
    content: Content | None = None,
    *,
    max_record_bytes: int,
) -> Staged:
    """Read, validate, normalize and conform one file (or its `content`, already read) into
    `task.path`; atomic per file. `metadata` holds constant columns; the source file column is
    added here. A line longer than `max_record_bytes` rejects the file. The file's checksum is taken
    from the same read; a file that reads otherwise than it did before (`task.checksum`) changed
    meanwhile: it stays in landing, failed."""
    source = SourceFile(name=task.source_name, attributes=task.attributes)
    metadata = {**metadata, dt.source_file_column: dt.source_file_for(task.source_name)}
    normalize, conform, dumps, option = dt.normalize, builder.conform, orjson.dumps, orjson.OPT_APPEND_NEWLINE
    defaults, reserved = dt.column_defaults.items(), list(metadata)
    builder.begin_file()
    rows, line, widest, dropped = 0, 0, 0, 0
    nulls: list[int] = []
    try:
        opened = nullcontext(Stream.holding(content)) if content is not None else landing.open(task.file)
        with opened as stream, task.path.open("wb") as out:
            if task.skip:
                stream.seek(task.skip)
            records = read_records(stream, task.file.name.endswith(".gz"), nulls, max_bytes=max_record_bytes)
            for line, record in records:  # noqa: B007
                if normalize is None:
                    produced: list[dict[str, Any]] = [record]
                else:
                    try:
                        normalized = normalize(record, source)
                    except ENVIRONMENT:
                        raise
                    except Exception as error:  # the plugin's own exception: the file is rejected for it
                        raise NormalizerFailed(error) from error
                    produced = _rows(dt, normalized)
                    dropped += not produced
                for item in produced:
                    row = conform(item, reserved)  # a record's own key of a metadata column goes to `<key>__2`
                    for column, value in defaults:
                        row.setdefault(column, value)
                    row.update(metadata)
                    staged = dumps(row, option=option)
                    out.write(staged)
                    widest = max(widest, len(staged))
                    rows += 1
            checksum = task.checksum if task.skip else stream.checksum()  # (the rest of a file: known before)
        if task.checksum is not None and checksum != task.checksum:
            raise changed(task)
        return Staged(
            rows=rows, path=task.path, widest=widest, dropped=dropped, null_lines=len(nulls), checksum=checksum
        )
    except FileChanged as error:  # (a read of another version than listed): it stays in landing for the next run
        changed_now = Staged(reason=str(error), code=ReasonCode.CHANGED_DURING_RUN, failed=True)
        return _unstaged(builder, task, changed_now)
    except MalformedFile as error:
        reason, code = error.reason, error.code
    except RecursionError:
        reason, code = f"record at line {line} is nested too deeply", ReasonCode.MALFORMED_LINE
    except NormalizerBroke as error:
        reason, code = f"line {line}: {error}", error.code
    except NormalizerFailed as failure:
        said = plugin_error(failure.error, normalize)
        reason, code = f"line {line}: the {dt.service} plugin could not normalize the record: {said}", failure.code
    except ENVIRONMENT as error:
        return _unstaged(builder, task, Staged(reason=cause(error), code=ReasonCode.ENVIRONMENT, failed=True))
    except Exception as error:  # the core's own error, not the file's: it stays in landing, the traceback logged
        log.error("%s: staging failed at line %d", task.file.name, line, exc_info=True)
        where = f"line {line}: " if line else ""
        failed = Staged(reason=f"{where}{cause(error)}", code=ReasonCode.INTERNAL_ERROR, failed=True)
        return _unstaged(builder, task, failed)
    return _unstaged(builder, task, Staged(reason=reason, code=code))


def changed(task: StageTask) -> FileChanged:
    """A file that reads otherwise than it did before in this run (`task.checksum`): rewritten meanwhile."""
    return FileChanged(f"{printable(task.file.name)} changed during the run: it reads otherwise than before")


def _unstaged(builder: SchemaBuilder, task: StageTask, staged: Staged) -> Staged:
    """A file that gave no rows to load: what it added to the schema and its staged file are undone."""
    builder.discard_file()
    task.path.unlink(missing_ok=True)
    return staged


class NormalizerBroke(RefusedError, TypeError):
    """A normalizer returned something else than a dict or a list of dicts."""

    code = ReasonCode.PLUGIN_ERROR


class NormalizerFailed(RefusedError):
    """The plugin's normalizer raised `error` (not one of the environment's): the plugin's fault."""

    code = ReasonCode.PLUGIN_ERROR

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _rows(dt: DataType, normalized: object) -> list[dict[str, Any]]:
    """A normalizer's return as rows, checked (the contract's edge: a plain error, not a crash later)."""
    if isinstance(normalized, dict):
        return [normalized]
    if isinstance(normalized, list) and all(isinstance(item, dict) for item in normalized):
        return normalized
    shape = "None" if normalized is None else f"a {type(normalized).__name__}"
    if isinstance(normalized, list):
        shape = f"a list holding {', '.join(sorted({type(i).__name__ for i in normalized}))}"
    raise NormalizerBroke(f"normalizer of {dt.key} returned {shape}; expected a dict or a list of dicts")
