"""The columnar path over a batch: files staged column-wise (`ingestor.staging.columnar`) in threads, taken
in landing order as the row path would take them, with whatever it hands back staged by the row
path at its turn."""

from __future__ import annotations

import copy
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ingestor.catalog import SourceFile, leaves_unchanged
from ingestor.errors import ENVIRONMENT, ReasonCode, cause
from ingestor.landing import Content
from ingestor.run import stopping
from ingestor.schema import Struct
from ingestor.staging import arrow_plan, columnar
from ingestor.staging.arrow_plan import HandedBack
from ingestor.staging.batch import Batch, read_ahead, staging_workers
from ingestor.staging.row_path import Staged, StageTask, changed
from ingestor.staging.staged import ARROW_SUFFIX

log = logging.getLogger("ingestor.staging")
GIVE_UP = 8  # files in a row the columnar path hands back: the rest of the batch goes row by row


def stage_columnar(batch: Batch, tasks: list[StageTask], rows: Callable[[Batch, list[StageTask]], None]) -> None:
    """Columnar staging in threads (Arrow parses without the GIL). Results are taken in landing
    order, as the row path would take the files: a file handed back is staged by the row path
    at once, from what the attempt read (held until then: the file is read once), so the next
    files see the schema it grew; so is a file under the settings'
    `columnar_min_bytes`, without trying (read ahead meanwhile on a remote landing zone). After
    GIVE_UP files in a row handed back (say every file holds a JSON column), `rows` stages the
    rest without trying first. Last, a file staged here whose columns no longer load as the final
    schema says (one became JSON later) is restaged against the schema of its turn."""
    dt, builder = batch.dt, batch.builder
    metadata_names = {*batch.metadata, dt.source_file_column}
    plan = arrow_plan.plan_for(builder.root, metadata_names)
    snapshot: Struct | None = None  # the schema as it stands, copied once per change
    workers = staging_workers(batch.settings)
    unchanged = leaves_unchanged(dt.normalize)
    staged: list[tuple[StageTask, arrow_plan.Columnar, Struct]] = []  # with the schema at the file's turn

    def attempt(task: StageTask, plan: arrow_plan.Plan | None) -> arrow_plan.Columnar | HandedBack | Staged:
        """The file staged column-wise, or why the row path must take it (with the file's content, when read), or
        (Staged) why it stays in landing."""
        if plan is None:
            return HandedBack("schema nested too deeply")
        if task.skip:
            return HandedBack("the rest of a file loaded in part")
        values = {**batch.metadata, dt.source_file_column: dt.source_file_for(task.source_name)}
        source = SourceFile(name=task.source_name, attributes=task.attributes)
        vouch = None if unchanged is None else lambda keys: unchanged(keys, source)
        path = task.path.with_suffix(ARROW_SUFFIX)
        budget = batch.settings.budget
        try:
            result = columnar.stage(batch.landing, task.file, plan, values, path, budget, vouch, dt.column_defaults)
        except ENVIRONMENT as error:  # reading the file, writing Arrow IPC (a full disk), memory: not the file's fault
            path.unlink(missing_ok=True)
            return Staged(reason=cause(error), code=ReasonCode.ENVIRONMENT, failed=True)
        if isinstance(result, arrow_plan.Columnar) and task.checksum not in (None, result.checksum):
            path.unlink()  # a file the plan read, changed since
            return Staged(reason=str(changed(task)), code=ReasonCode.CHANGED_DURING_RUN, failed=True)
        return result

    pending = deque(tasks)
    queue: deque[tuple[StageTask, Future[Any], bool]] = deque()  # True: a small file (its future reads it ahead)
    handed_back = 0  # in a row
    version = builder.version  # of the schema `plan` was made from
    small = batch.settings.staging.columnar_min_bytes

    def row_by_row(task: StageTask, why: str, content: Content | None = None) -> None:
        nonlocal plan, snapshot, version
        log.debug("%s: staged row by row (%s)", task.file.name, why)
        batch.stage(task, content)
        if builder.version != version:  # the next files are tried against the schema it grew
            plan, snapshot, version = arrow_plan.plan_for(builder.root, metadata_names), None, builder.version

    with stopping.threads(workers, "ingestor-stage") as pool:
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
            result: arrow_plan.Columnar | HandedBack | Staged = future.result()
            if isinstance(result, Staged):  # failed: it stays in landing
                batch.keep(task, result)
                continue
            if isinstance(result, arrow_plan.Columnar) and not arrow_plan.fits(result, builder.root):
                result.path.unlink()  # (its content is not held: read again, as it rarely happens)
                result = HandedBack("staged against an older schema")
            if isinstance(result, HandedBack):
                row_by_row(task, result.why, result.content)
                handed_back += 1
                continue
            handed_back = 0
            if snapshot is None:
                snapshot = copy.deepcopy(builder.root)
            staged.append((task, result, snapshot))
    rest = list(pending)
    if rest:
        log.debug("%s: %d files in a row staged row by row; the other %d too", dt.key, GIVE_UP, len(rest))
        rows(batch, rest)
    for task, result, turn in staged:
        batch.keep(task, Staged(rows=result.rows, path=result.path, checksum=result.checksum))
        if arrow_plan.loads(result, builder.root):
            continue
        # A column it holds changed type later (e.g. became JSON): stage it row by row against the
        # schema of its turn, as the row path did; it fitted that schema, so nothing changes.
        result.path.unlink()
        batch.restage(task, "a column changed type later", turn)
