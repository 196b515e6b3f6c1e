"""The memory budget: the limit found (setting, cgroup v1 or v2, default) and the shares derived from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestor.budget import DEFAULT_MB, Budget, MiB, cgroup_limit, find_budget
from ingestor.settings import Settings
from ingestor.warehouse import open_warehouse


def _cgroup(tmp_path: Path, proc: str, files: dict[str, str]) -> tuple[Path, Path]:
    (tmp_path / "proc").write_text(proc)
    for name, text in files.items():
        path = tmp_path / "sys" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "proc", tmp_path / "sys"


def test_cgroup_v2_limit_is_the_smallest_on_the_way_up(tmp_path: Path) -> None:
    proc, root = _cgroup(tmp_path, "0::/job/task\n", {"job/memory.max": "1073741824\n", "job/task/memory.max": "max\n"})
    assert cgroup_limit(proc, root) == 1024 * MiB


def test_cgroup_v1_limit_and_its_no_limit_value(tmp_path: Path) -> None:
    proc, root = _cgroup(
        tmp_path,
        "4:memory:/ingest\n3:cpu,cpuacct:/\n",
        {"memory/ingest/memory.limit_in_bytes": str(512 * MiB), "memory/memory.limit_in_bytes": "9223372036854771712"},
    )
    assert cgroup_limit(proc, root) == 512 * MiB
    (root / "memory/ingest/memory.limit_in_bytes").write_text("9223372036854771712")
    assert cgroup_limit(proc, root) is None


def test_a_container_sees_its_own_group_at_the_root(tmp_path: Path) -> None:
    proc, root = _cgroup(tmp_path, "0::/\n", {"memory.max": str(512 * MiB)})
    assert cgroup_limit(proc, root) == 512 * MiB


def test_no_cgroup_files(tmp_path: Path) -> None:
    assert cgroup_limit(tmp_path / "absent", tmp_path) is None


def test_shares_grow_with_the_budget_within_bounds() -> None:
    small, job, large = Budget(512 * MiB, "cgroup"), Budget(1024 * MiB, "cgroup"), Budget(64 * 1024 * MiB, "cgroup")
    assert small.duckdb_mb == 64 and job.duckdb_mb == 128 and large.duckdb_mb == 1024
    assert small.record_bytes == 8 * MiB and large.record_bytes == 64 * MiB
    assert small.part_bytes == 32 * MiB and small.part_files == 4096
    assert small.columnar_bytes == 16 * MiB and large.columnar_bytes == 64 * MiB
    assert small.workers(8) == 2 and large.workers(8) == 4 and Budget(128 * MiB, "x").workers(8) == 1
    assert "512 MB (cgroup)" in small.describe()


def test_a_share_set_explicitly_wins() -> None:
    budget = find_budget(512, duckdb_mb=300, record_bytes=1000, part_bytes=10, part_files=3, workers=7)
    assert budget.source == "INGESTOR_MEMORY_MB" and budget.total == 512 * MiB
    assert (budget.duckdb_mb, budget.record_bytes, budget.part_bytes, budget.part_files) == (300, 1000, 10, 3)
    assert budget.workers(2) == 7


def test_settings_read_the_budget_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGESTOR_MEMORY_MB", "512")
    monkeypatch.setenv("INGESTOR_PART_FILES", "9")
    budget = Settings().budget
    assert budget.total == 512 * MiB and budget.part_files == 9 and budget.duckdb_mb == 64


def test_without_a_limit_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ingestor.budget.cgroup_limit", lambda: None)
    assert find_budget(None).total == DEFAULT_MB * MiB


def test_duckdb_gets_its_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGESTOR_MEMORY_MB", "1024")
    warehouse = open_warehouse(f"duckdb://{tmp_path}/w.duckdb", Settings())
    try:
        limit = warehouse.con.execute("SELECT current_setting('memory_limit')").fetchone()  # type: ignore[attr-defined]
    finally:
        warehouse.close()
    assert limit == ("122.0 MiB",)  # 128 MB, as DuckDB spells it
