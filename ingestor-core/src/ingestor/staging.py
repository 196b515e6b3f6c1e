"""Staging: one landing file -> one file of conformed rows. The row path (`stage_file`) reads
records one by one and stages NDJSON, in this process or in worker processes for large
batches (each with its own schema, merged afterwards). On a warehouse that loads Arrow,
`ingestor.columnar` stages files column-wise in threads (for a data type with a normalizer,
the files its `leaves_unchanged` vouches for) and hands the row path whatever it cannot stage
exactly as the row path would."""

from __future__ import annotations

import copy
import io
import logging
import os
import pickle
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ingestor.catalog import DataType, SourceFile, leaves_unchanged
from ingestor.landing import Landing, LandingFile, open_landing
from ingestor.names import sanitize_column
from ingestor.reader import MalformedFile, read_records
from ingestor.schema import SchemaBuilder, Struct, merge
from ingestor.staged import ARROW_SUFFIX

if TYPE_CHECKING:
    from ingestor.settings import Settings, StagingSettings

log = logging.getLogger("ingestor.staging")
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this a batch is staged in-process
GIVE_UP = 8  # files in a row the columnar path hands back: the rest of the batch goes row by row
COLUMNAR_MIN_BYTES = 64 * 1024  # smaller files are staged row by row: Arrow's fixed cost per file is higher
READ_AHEAD_MAX_BYTES = 4 * 1024 * 1024  # on a remote landing zone, smaller files are read ahead in threads


@dataclass
class StageTask:
    """One landing file to stage."""

    file: LandingFile
    attributes: dict[str, str]
    path: Path
    skip: int = 0  # bytes at the start already loaded (an earlier version of a file appended to since)


@dataclass
class Staged:
    """What staging one file gave: rows, or the reason it was rejected."""

    rows: int = 0
    reason: str | None = None
    path: Path | None = None  # the staged file: NDJSON, or Arrow IPC from the columnar path
    widest: int = 0  # bytes of the longest NDJSON row (what the warehouse's JSON reader must hold)
    dropped: int = 0  # records the normalizer returned no row for
    null_lines: int = 0  # lines that were JSON `null`: no record, skipped

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
    data: bytes | None = None,
) -> Staged:
    """Read, validate, normalize and conform one file (or its `data`, already read) into
    `task.path`; atomic per file. `metadata` holds constant columns; the source file column is
    added here."""
    source = SourceFile(name=task.file.name, attributes=task.attributes)
    metadata = {**metadata, dt.source_file_column: dt.source_file_for(task.file.name)}
    normalize, conform, dumps, option = dt.normalize, builder.conform, orjson.dumps, orjson.OPT_APPEND_NEWLINE
    defaults = dt.column_defaults.items()
    builder.begin_file()
    rows, line, widest, dropped = 0, 0, 0, 0
    nulls: list[int] = []
    try:
        opened = nullcontext(io.BytesIO(data)) if data is not None else landing.open(task.file)
        with opened as stream, task.path.open("wb") as out:
            stream.seek(task.skip)
            for line, record in read_records(stream, task.file.name.endswith(".gz"), nulls):  # noqa: B007
                if normalize is None:
                    produced: list[dict[str, Any]] = [record]
                else:
                    produced = _rows(dt, normalize(record, source))
                    dropped += not produced
                for item in produced:
                    row = conform(item)
                    if not metadata.keys().isdisjoint(row):  # the record has a key of a metadata column
                        row = conform(_set_aside(item, metadata))
                    for column, value in defaults:
                        row.setdefault(column, value)
                    row.update(metadata)
                    staged = dumps(row, option=option)
                    out.write(staged)
                    widest = max(widest, len(staged))
                    rows += 1
        return Staged(rows=rows, path=task.path, widest=widest, dropped=dropped, null_lines=len(nulls))
    except MalformedFile as error:
        reason = f"malformed NDJSON at line {error.line}: {error.message}"
    except RecursionError:
        reason = f"record at line {line} is nested too deeply"
    except NormalizerBroke as error:
        reason = f"line {line}: {error}"
    except Exception as error:  # a normalizer that cannot handle a record
        if normalize is None:
            raise
        reason = f"line {line}: the {dt.service} plugin could not normalize the record: {type(error).__name__}: {error}"
    builder.discard_file()
    task.path.unlink(missing_ok=True)
    return Staged(reason=reason)


class NormalizerBroke(TypeError):
    """A normalizer returned something else than a dict or a list of dicts."""


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


def _set_aside(record: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """The record with its keys that name a metadata column (in any case or spelling) renamed
    `<name>__2` (`__3`, ...), as any key clashing with another in one object is: kept, not overwritten."""
    taken = {sanitize_column(name).lower() for name in metadata}
    out: dict[str, Any] = {}
    for key, value in record.items():
        if sanitize_column(key).lower() in taken:
            n = 2
            while f"{key}__{n}" in record or f"{key}__{n}" in out:
                n += 1
            key = f"{key}__{n}"
        out[key] = value
    return out


@dataclass
class _WorkerJob:
    landing_url: str
    settings: Settings
    data_type: DataType
    schema: Struct
    metadata: dict[str, Any]
    tasks: list[StageTask] = field(default_factory=list)


def _work(job: _WorkerJob) -> tuple[list[Staged], Struct, list[str], int]:
    landing = open_landing(job.landing_url, job.settings)
    try:
        builder = SchemaBuilder(job.schema)
        results = [stage_file(landing, job.data_type, task, builder, job.metadata) for task in job.tasks]
        return results, builder.root, builder.notes, builder.json_turns
    finally:
        landing.close()


def worker_count(tasks: list[StageTask], data_type: DataType, settings: StagingSettings) -> int:
    """How many processes to stage with: 1 unless the batch is large and the data type picklable."""
    workers = settings.workers or min(os.cpu_count() or 1, 4)
    min_bytes = PARALLEL_MIN_BYTES
    if workers <= 1 or len(tasks) < 2 or sum(t.file.size for t in tasks) < min_bytes:
        return 1
    try:
        pickle.dumps(data_type)
    except Exception:  # e.g. a lambda normalizer: stage in-process
        return 1
    return min(workers, len(tasks))


@dataclass
class Batch:
    """One data type's files being staged: where they come from, the schema they grow, and
    where each file's result goes."""

    landing: Landing
    dt: DataType
    builder: SchemaBuilder
    metadata: dict[str, Any]  # constant columns
    on_done: Callable[[StageTask, Staged], None]
    settings: Settings
    turns: dict[str, int] = field(default_factory=dict)  # file -> builder.json_turns when its row staging began

    def stage(self, task: StageTask, builder: SchemaBuilder | None = None, data: bytes | None = None) -> None:
        """Stage one file row by row, in this process (`data`: its content, already read)."""
        self.turns[task.file.name] = self.builder.json_turns if builder is None else -1
        self.on_done(task, stage_file(self.landing, self.dt, task, builder or self.builder, self.metadata, data))


def read_ahead(landing: Landing, task: StageTask) -> bytes | None:
    """A small file's content, read by a helper thread while others are staged (a remote landing
    zone: one request each); None when it is large or cannot be read (staging then streams it and
    meets the error itself)."""
    if landing.concurrency <= 1 or task.file.size > READ_AHEAD_MAX_BYTES:
        return None
    try:
        with landing.open(task.file) as stream:
            return stream.read()
    except Exception:
        return None


def stage_all(batch: Batch, tasks: list[StageTask], columnar: bool = False) -> None:
    """Stage every task, growing the batch's schema: column-wise where `columnar` allows (the
    warehouse loads Arrow) and the data type has no normalizer or one that can vouch for files,
    else row by row, in-process or across worker processes."""
    normalize = batch.dt.normalize
    possible = normalize is None or leaves_unchanged(normalize) is not None
    if columnar and possible and batch.settings.staging.columnar:
        _stage_columnar(batch, tasks)
    else:
        _stage_rows(batch, tasks)
    # A column that became JSON holds source values exactly: rows staged before it did hold conformed
    # ones (renamed keys, nulls dropped): stage those files again (the schema no longer changes).
    again = [t for t in tasks if batch.turns.get(t.file.name, batch.builder.json_turns) < batch.builder.json_turns]
    for task in again:
        log.debug("%s: staged again (a column became JSON)", task.file.name)
        batch.stage(task)


def _stage_rows(batch: Batch, tasks: list[StageTask]) -> None:
    landing, dt, builder, metadata = batch.landing, batch.dt, batch.builder, batch.metadata
    workers = worker_count(tasks, dt, batch.settings.staging)
    if workers == 1:
        if landing.concurrency <= 1:
            for task in tasks:
                batch.stage(task)
            return
        with ThreadPoolExecutor(max_workers=landing.concurrency, thread_name_prefix="ingestor-read") as pool:
            window: deque[tuple[StageTask, Future[bytes | None]]] = deque()
            for task in tasks:
                window.append((task, pool.submit(read_ahead, landing, task)))
                if len(window) > 2 * landing.concurrency:
                    done, data = window.popleft()
                    batch.stage(done, data=data.result())
            while window:
                done, data = window.popleft()
                batch.stage(done, data=data.result())
        return
    # Deal files out by size, largest first, so workers finish together; order is deterministic.
    jobs = [_WorkerJob(landing.url, batch.settings, dt, copy.deepcopy(builder.root), metadata) for _ in range(workers)]
    loads = [0] * workers
    for task in sorted(tasks, key=lambda t: (-t.file.size, t.file.name)):
        slot = loads.index(min(loads))
        jobs[slot].tasks.append(task)
        loads[slot] += task.file.size
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        outputs = list(pool.map(_work, jobs))
    redo: list[StageTask] = []
    respelled: list[list[str]] = []
    turned = any(turns for *_, turns in outputs)  # a column became JSON in a worker
    for _, schema, notes, _ in outputs:
        builder.notes.extend(n for n in notes if n not in builder.notes)
        marked = len(builder.notes)
        respelled.append(merge(builder.root, schema, builder.notes))
        turned = turned or len(builder.notes) > marked  # the merge's only notes: a column became JSON
    for job, (results, *_), renamed in zip(jobs, outputs, respelled, strict=True):
        for task, staged in zip(job.tasks, results, strict=True):
            if (renamed or turned) and staged.reason is None:
                redo.append(task)  # its rows use another spelling of a column, or hold a JSON one conformed
            else:
                batch.on_done(task, staged)
    for task in redo:
        batch.stage(task)


def _stage_columnar(batch: Batch, tasks: list[StageTask]) -> None:
    """Columnar staging in threads (Arrow parses without the GIL). Results are taken in landing
    order, as the row path would take the files: a file handed back is staged by the row path
    at once, so the next files see the schema it grew; so is a file under COLUMNAR_MIN_BYTES,
    without trying (read ahead meanwhile on a remote landing zone). After GIVE_UP files in a row
    handed back (say every file holds a JSON column), the rest are staged row by row without
    trying first."""
    from ingestor import columnar  # pyarrow only when a run needs it

    dt, builder = batch.dt, batch.builder
    metadata_names = {*batch.metadata, dt.source_file_column}
    plan = columnar.plan_for(builder.root, metadata_names)
    snapshot: Struct | None = None  # the schema as it stands, copied once per change
    workers = batch.settings.staging.workers or min(os.cpu_count() or 1, 4)
    unchanged = leaves_unchanged(dt.normalize)
    staged: list[tuple[StageTask, columnar.Columnar, Struct]] = []  # with the schema at the file's turn

    def attempt(task: StageTask, plan: columnar.Plan | None) -> columnar.Columnar | str:
        if plan is None:
            return "schema nested too deeply"
        if task.skip:
            return "the rest of a file loaded in part"
        values = {**batch.metadata, dt.source_file_column: dt.source_file_for(task.file.name)}
        source = SourceFile(name=task.file.name, attributes=task.attributes)
        vouch = None if unchanged is None else lambda keys: unchanged(keys, source)
        path = task.path.with_suffix(ARROW_SUFFIX)
        return columnar.stage(batch.landing, task.file, plan, values, path, vouch, dt.column_defaults)

    pending = deque(tasks)
    queue: deque[tuple[StageTask, Future[Any], bool]] = deque()  # True: a small file (its future reads it ahead)
    handed_back = 0  # in a row
    version = builder.version  # of the schema `plan` was made from
    small = batch.settings.staging.columnar_min_bytes

    def row_by_row(task: StageTask, why: str, data: bytes | None = None) -> None:
        nonlocal plan, snapshot, version
        log.debug("%s: staged row by row (%s)", task.file.name, why)
        batch.stage(task, data=data)
        if builder.version != version:  # the next files are tried against the schema it grew
            plan, snapshot, version = columnar.plan_for(builder.root, metadata_names), None, builder.version

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingestor-stage") as pool:
        while True:
            while handed_back < GIVE_UP and pending and len(queue) < 2 * workers:
                task = pending[0]
                if task.file.size < small:
                    queue.append((task, pool.submit(read_ahead, batch.landing, task), True))
                elif staged or not queue:
                    queue.append((task, pool.submit(attempt, task, plan), False))
                else:  # until one stages column-wise, each is tried once the files before it are staged
                    break
                pending.popleft()
            if not queue:
                break
            task, future, small_file = queue.popleft()
            if small_file:
                row_by_row(task, "a small file", future.result())
                continue
            result: columnar.Columnar | str = future.result()
            if not isinstance(result, str) and not columnar.fits(result, builder.root):
                result.path.unlink()
                result = "staged against an older schema"
            if isinstance(result, str):
                row_by_row(task, result)
                handed_back += 1
                continue
            handed_back = 0
            if snapshot is None:
                snapshot = copy.deepcopy(builder.root)
            staged.append((task, result, snapshot))
    rest = list(pending)
    if rest:
        log.debug("%s: %d files in a row staged row by row; the other %d too", dt.key, GIVE_UP, len(rest))
        _stage_rows(batch, rest)
    for task, result, turn in staged:
        if columnar.loads(result, builder.root):
            batch.on_done(task, Staged(rows=result.rows, path=result.path))
            continue
        # A column it holds changed type later (e.g. became JSON): stage it row by row against the
        # schema of its turn, as the row path did; it fitted that schema, so nothing changes.
        log.debug("%s: staged again row by row (a column changed type later)", task.file.name)
        result.path.unlink()
        batch.stage(task, SchemaBuilder(copy.deepcopy(turn)))
