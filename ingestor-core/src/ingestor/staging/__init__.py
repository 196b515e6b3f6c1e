"""Staging a data type's files: each landing file becomes one file of conformed rows, and the
batch's schema grows as they are read.

`stage_all` takes the files in landing order. On a warehouse that loads Arrow, the columnar path
(`ingestor.staging.columnar_path`) goes first where the data type allows it and hands the row path what it
cannot stage exactly as the row path would; otherwise the row path (`ingestor.staging.row_path`) stages
every file, in this process or, for a large batch, across worker processes (each with its own copy
of the schema, merged afterwards). A file whose first staging cannot be kept once the whole batch
is staged (a column it holds became JSON later, or a worker spelled a column otherwise) takes the
one fallback, `Batch.restage`: row by row again, in this process."""

from __future__ import annotations

import copy
import logging
import pickle
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from ingestor.catalog import DataType, leaves_unchanged
from ingestor.errors import ENVIRONMENT, ReasonCode, cause
from ingestor.landing import Content, open_landing
from ingestor.run import stopping
from ingestor.schema import SchemaBuilder, Struct, merge
from ingestor.staging.batch import Batch, read_ahead, staging_workers
from ingestor.staging.row_path import Staged, StageTask, stage_file

if TYPE_CHECKING:
    from ingestor.settings import Settings

__all__ = ["Batch", "StageTask", "Staged", "stage_all"]
log = logging.getLogger("ingestor.staging")
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this a batch is staged in-process


def stage_all(batch: Batch, tasks: list[StageTask], columnar: bool = False) -> dict[str, Staged]:
    """Stage every task, growing the batch's schema: column-wise where `columnar` allows (the
    warehouse loads Arrow) and the data type has no normalizer or one that can vouch for files,
    else row by row, in-process or across worker processes. Each file's result, by landing name.
    A fault no one file explains (a staging process killed, e.g. for memory) fails the batch: its
    files stay in landing, but those rejected for their own content."""
    try:
        _stage_batch(batch, tasks, columnar)
    except Exception as error:  # which staged files it spoiled is unknown: none is loaded, the next run stages again
        log.error("%s: staging failed, its files stay in landing: %s", batch.dt.key, cause(error))
        log.debug("%s: the staging failure", batch.dt.key, exc_info=True)
        machine = isinstance(error, (*ENVIRONMENT, BrokenProcessPool))  # a staging process killed: for memory, say
        code = ReasonCode.ENVIRONMENT if machine else ReasonCode.INTERNAL_ERROR
        failed = Staged(reason=cause(error), code=code, failed=True)
        kept = {name: staged for name, staged in batch.results.items() if staged.reason and not staged.failed}
        batch.results = {task.file.name: kept.get(task.file.name, failed) for task in tasks}
    return batch.results


def _stage_batch(batch: Batch, tasks: list[StageTask], columnar: bool) -> None:
    normalize = batch.dt.normalize
    possible = normalize is None or leaves_unchanged(normalize) is not None
    if columnar and possible and batch.settings.staging.columnar:
        from ingestor.staging.columnar_path import stage_columnar  # pyarrow only when a run needs it

        stage_columnar(batch, tasks, stage_rows)
    else:
        stage_rows(batch, tasks)
    # A column that became JSON holds source values exactly: rows staged before it did hold conformed
    # ones (renamed keys, nulls dropped): stage those files again (the schema no longer changes).
    for task in tasks:
        if batch.turns.get(task.file.name, batch.builder.json_turns) < batch.builder.json_turns:
            batch.restage(task, "a column became JSON")


def stage_rows(batch: Batch, tasks: list[StageTask]) -> None:
    """Stage the tasks row by row: across worker processes when the batch is large, else in this
    process (reading small files ahead on a remote landing zone)."""
    workers = worker_count(tasks, batch.dt, batch.settings)
    if workers > 1:
        _stage_in_workers(batch, tasks, workers)
        return
    landing = batch.landing
    if landing.concurrency <= 1:
        for task in tasks:
            batch.stage(task)
        return
    with stopping.threads(landing.concurrency, "ingestor-read") as pool:
        window: deque[tuple[StageTask, Future[Content | None]]] = deque()
        for task in tasks:
            window.append((task, pool.submit(read_ahead, landing, task)))
            if len(window) > 2 * landing.concurrency:
                done, content = window.popleft()
                batch.stage(done, content.result())
        while window:
            done, content = window.popleft()
            batch.stage(done, content.result())


def worker_count(tasks: list[StageTask], data_type: DataType, settings: Settings) -> int:
    """How many processes to stage with: 1 unless the batch is large and the data type picklable."""
    workers = staging_workers(settings)
    if workers <= 1 or len(tasks) < 2 or sum(t.file.size for t in tasks) < PARALLEL_MIN_BYTES:
        return 1
    try:
        pickle.dumps(data_type)
    except Exception:  # e.g. a lambda normalizer: stage in-process
        return 1
    return min(workers, len(tasks))


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
        bound = job.settings.budget.record_bytes
        results = [
            stage_file(landing, job.data_type, task, builder, job.metadata, max_record_bytes=bound)
            for task in job.tasks
        ]
        return results, builder.root, builder.notes, builder.json_turns
    finally:
        landing.close()


def _stage_in_workers(batch: Batch, tasks: list[StageTask], workers: int) -> None:
    """Deal the files out by size, largest first, so workers finish together (deterministically); merge
    the schemas they grew into the batch's, and restage the files a merge makes unfit."""
    builder = batch.builder
    jobs = [
        _WorkerJob(batch.landing.url, batch.settings, batch.dt, copy.deepcopy(builder.root), batch.metadata)
        for _ in range(workers)
    ]
    loads = [0] * workers
    for task in sorted(tasks, key=lambda t: (-t.file.size, t.file.name)):
        slot = loads.index(min(loads))
        jobs[slot].tasks.append(task)
        loads[slot] += task.file.size
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        outputs = list(pool.map(_work, jobs))
    respelled: list[list[str]] = []
    turned = any(turns for *_, turns in outputs)  # a column became JSON in a worker
    for _, schema, notes, _ in outputs:
        builder.notes.extend(n for n in notes if n not in builder.notes)
        marked = len(builder.notes)
        respelled.append(merge(builder.root, schema, builder.notes, builder.probe))  # paths its rows do not fit
        turned = turned or len(builder.notes) > marked  # the merge's only notes: a column became JSON
    unfit: list[StageTask] = []
    for job, (results, *_), renamed in zip(jobs, outputs, respelled, strict=True):
        for task, staged in zip(job.tasks, results, strict=True):
            batch.keep(task, staged)
            if (renamed or turned) and staged.reason is None:
                unfit.append(task)  # its rows use another spelling of a column, or hold a JSON one conformed
    for task in unfit:
        batch.restage(task, "a worker's schema spelled or typed a column otherwise")
