"""The core's shape, checked from its source: no import cycles, the environment read only at the
edge (the settings module; the test kit hides run variables from the commands it invokes), and small modules
(in the plugins too)."""

from __future__ import annotations

import ast
from pathlib import Path

import ingestor

SOURCE = Path(ingestor.__file__).parent
PLUGINS = [SOURCE.parents[2] / name / "src" for name in ("ingestor-garmin", "ingestor-spotify", "ingestor-chess")]
MAX_LINES = 300
READS_ENVIRONMENT = {"settings.py", "environment.py"}  # the configuration tree, built once at the edge; its light part


def _modules() -> dict[str, Path]:
    modules = {}
    for path in SOURCE.rglob("*.py"):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The core modules `path` imports, wherever the import is (top level, function, TYPE_CHECKING)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ingestor":
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_core_has_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: {m for m in _imports(path, modules) if m in modules and m != name} for name, path in modules.items()}
    assert _cycle(graph) is None


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = []
    for root in [SOURCE, *PLUGINS]:
        for path in root.rglob("*.py"):
            text = path.read_text()
            if ("os.environ" in text or "getenv(" in text) and path.name not in READS_ENVIRONMENT:
                readers.append(str(path.relative_to(root)))
    assert readers == []


def test_no_module_is_over_300_lines() -> None:
    """The core's modules and the three plugins' alike."""
    sizes = {
        str(path.relative_to(root.parent)): len(path.read_text().splitlines())
        for root in [SOURCE, *PLUGINS]
        for path in root.rglob("*.py")
    }
    assert len(sizes) > 100  # every package was read
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
