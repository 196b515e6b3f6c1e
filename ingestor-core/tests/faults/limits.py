"""Real limits for tests: a memory cgroup (v1 or v2) that a child process runs in, its peak memory read back,
and a small tmpfs disk. Each skips its test, with the reason, where the machine refuses (not root, no
writable cgroup hierarchy, no mount permission)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CGROUP = Path("/sys/fs/cgroup")
MiB = 1024 * 1024


@dataclass
class Limited:
    """A finished process that ran under a memory limit."""

    done: subprocess.CompletedProcess[str]
    peak: int  # bytes: the cgroup's peak usage (page cache of files written included)
    oom_killed: bool


def _group_root() -> tuple[Path, str, str, str] | None:
    """(folder to make groups in, limit file, peak file, events file) of a writable memory hierarchy."""
    v1 = CGROUP / "memory"
    if (v1 / "memory.limit_in_bytes").exists() and os.access(v1, os.W_OK):
        return v1, "memory.limit_in_bytes", "memory.max_usage_in_bytes", "memory.oom_control"
    v2 = CGROUP / "cgroup.subtree_control"
    if v2.exists() and os.access(CGROUP, os.W_OK) and "memory" in v2.read_text().split():
        return CGROUP, "memory.max", "memory.peak", "memory.events"
    return None


@contextlib.contextmanager
def memory_group(limit_mb: int) -> Iterator[Path]:
    """A fresh memory cgroup limited to `limit_mb` (swap included where the kernel counts it); removed after."""
    found = _group_root()
    if found is None:
        pytest.skip("no writable memory cgroup hierarchy here (needs root and cgroup v1 memory or v2)")
    root, limit_file, _, _ = found
    group = root / f"ingestor-test-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
        (group / limit_file).write_text(str(limit_mb * MiB))
        swap = group / ("memory.memsw.limit_in_bytes" if limit_file == "memory.limit_in_bytes" else "memory.swap.max")
        if swap.exists():
            with contextlib.suppress(OSError):
                swap.write_text(str(limit_mb * MiB) if swap.name.startswith("memory.memsw") else "0")
    except OSError as error:
        pytest.skip(f"cannot make a memory cgroup here: {error}")
    try:
        yield group
    finally:
        for _ in range(50):  # the group empties once its processes are reaped
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def run_limited(command: list[str], limit_mb: int, *, env: dict[str, str], cwd: Path, timeout: float = 600) -> Limited:
    """Run `command` to its end inside a fresh memory cgroup of `limit_mb`: its result and peak memory."""
    with memory_group(limit_mb) as group:
        _, _, peak_file, events_file = _group_root()  # type: ignore[misc]
        procs = str(group / "cgroup.procs")

        def enter() -> None:  # in the child, before exec: the command and all it starts are limited
            with open(procs, "w") as f:
                f.write(str(os.getpid()))

        done = subprocess.run(
            command, env=env, cwd=cwd, text=True, capture_output=True, timeout=timeout, preexec_fn=enter, check=False
        )
        peak = int((group / peak_file).read_text().strip())
        events = (group / events_file).read_text()
        killed = done.returncode in (-9, 137) or any(
            line.startswith("oom_kill ") and line.split()[1] != "0" for line in events.splitlines()
        )
    return Limited(done, peak, killed)


@contextlib.contextmanager
def tmpfs(path: Path, size_mb: float) -> Iterator[Path]:
    """A tmpfs of `size_mb` mounted at `path` (a small disk that fills up); unmounted after."""
    path.mkdir(parents=True, exist_ok=True)
    size = f"{int(size_mb * 1024)}k"
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
