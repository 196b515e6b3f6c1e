"""Staging: one landing file -> one NDJSON file of conformed rows, in this process or in
worker processes for large batches (each with its own schema, merged afterwards)."""

from __future__ import annotations

import copy
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import orjson

from ingestor.catalog import DataType, SourceFile
from ingestor.landing import Landing, LandingFile, open_landing
from ingestor.reader import MalformedFile, read_records
from ingestor.schema import SchemaBuilder, Struct, merge

PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this a batch is staged in-process


@dataclass
class StageTask:
    """One landing file to stage."""

    file: LandingFile
    attributes: dict[str, str]
    path: Path


@dataclass
class Staged:
    """What staging one file gave: rows, or the reason it was rejected."""

    rows: int = 0
    reason: str | None = None


def stage_file(
    landing: Landing, dt: DataType, task: StageTask, builder: SchemaBuilder, metadata: dict[str, Any]
) -> Staged:
    """Read, validate, normalize and conform one file into `task.path`; atomic per file.
    `metadata` holds constant columns; the source file column is added here."""
    source = SourceFile(name=task.file.name, attributes=task.attributes)
    metadata = {**metadata, dt.source_file_column: task.file.name}
    normalize, conform, dumps, option = dt.normalize, builder.conform, orjson.dumps, orjson.OPT_APPEND_NEWLINE
    builder.begin_file()
    rows, line = 0, 0
    try:
        with landing.open(task.file) as stream, task.path.open("wb") as out:
            for line, record in read_records(stream, gzipped=task.file.name.endswith(".gz")):  # noqa: B007
                if normalize is None:
                    produced: list[dict[str, Any]] = [record]
                else:
                    normalized = normalize(record, source)
                    produced = normalized if type(normalized) is list else [normalized]  # type: ignore[list-item]
                for item in produced:
                    row = conform(item)
                    row.update(metadata)
                    out.write(dumps(row, option=option))
                    rows += 1
        return Staged(rows=rows)
    except MalformedFile as error:
        reason = f"malformed NDJSON at line {error.line}: {error.message}"
    except RecursionError:
        reason = f"record at line {line} is nested too deeply"
    except Exception as error:  # a normalizer that cannot handle a record
        if normalize is None:
            raise
        reason = f"line {line}: the {dt.service} plugin could not normalize the record: {type(error).__name__}: {error}"
    builder.discard_file()
    task.path.unlink(missing_ok=True)
    return Staged(reason=reason)


@dataclass
class _WorkerJob:
    landing_url: str
    data_type: DataType
    schema: Struct
    metadata: dict[str, Any]
    tasks: list[StageTask] = field(default_factory=list)


def _work(job: _WorkerJob) -> tuple[list[Staged], Struct, list[str]]:
    landing = open_landing(job.landing_url)
    try:
        builder = SchemaBuilder(job.schema)
        results = [stage_file(landing, job.data_type, task, builder, job.metadata) for task in job.tasks]
        return results, builder.root, builder.notes
    finally:
        landing.close()


def worker_count(tasks: list[StageTask], data_type: DataType) -> int:
    """How many processes to stage with: 1 unless the batch is large and the data type picklable."""
    configured = os.environ.get("INGESTOR_WORKERS")
    workers = int(configured) if configured else min(os.cpu_count() or 1, 4)
    min_bytes = int(os.environ.get("INGESTOR_PARALLEL_MIN_BYTES", PARALLEL_MIN_BYTES))
    if workers <= 1 or len(tasks) < 2 or sum(t.file.size for t in tasks) < min_bytes:
        return 1
    try:
        pickle.dumps(data_type)
    except Exception:  # e.g. a lambda normalizer: stage in-process
        return 1
    return min(workers, len(tasks))


def stage_all(
    landing: Landing,
    dt: DataType,
    tasks: list[StageTask],
    builder: SchemaBuilder,
    metadata: dict[str, Any],
    on_done: Callable[[StageTask, Staged], None],
) -> None:
    """Stage every task, in-process or across worker processes, growing `builder`'s schema."""
    workers = worker_count(tasks, dt)
    if workers == 1:
        for task in tasks:
            on_done(task, stage_file(landing, dt, task, builder, metadata))
        return
    # Deal files out by size, largest first, so workers finish together; order is deterministic.
    jobs = [_WorkerJob(landing.url, dt, copy.deepcopy(builder.root), metadata) for _ in range(workers)]
    loads = [0] * workers
    for task in sorted(tasks, key=lambda t: (-t.file.size, t.file.name)):
        slot = loads.index(min(loads))
        jobs[slot].tasks.append(task)
        loads[slot] += task.file.size
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        outputs = list(pool.map(_work, jobs))
    redo: list[StageTask] = []
    for job, (results, schema, notes) in zip(jobs, outputs, strict=True):
        builder.notes.extend(n for n in notes if n not in builder.notes)
        respelled = merge(builder.root, schema, builder.notes)
        for task, staged in zip(job.tasks, results, strict=True):
            if respelled and staged.reason is None:
                redo.append(task)  # its rows use another spelling of a column: stage again here
            else:
                on_done(task, staged)
    for task in redo:
        on_done(task, stage_file(landing, dt, task, builder, metadata))
