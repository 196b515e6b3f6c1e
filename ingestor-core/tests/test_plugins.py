"""Plugin discovery through real entry points (a dist-info folder on sys.path) and the contract."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pluggy
import pytest

from ingestor import hookimpl, hookspecs
from ingestor.plugins import PluginError, get_plugin_manager, plugin_info


def install_fake_distribution(root: Path, dist: str, module: str, source: str) -> None:
    """A real, importable distribution: a module plus its dist-info with an `ingestor` entry point."""
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[ingestor]\n{module} = {module}\n")


GOOD = """
from ingestor import hookimpl
from ingestor.catalog import DataType

@hookimpl
def list_types():
    return [DataType(service="zeta", name="things", dataset="z_{env}", table="things")]
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    # Only the distributions these tests create: whatever else is installed stays out.
    monkeypatch.setenv("INGESTOR_LOAD_PLUGINS", "ingestor-zeta,ingestor-broken,ingestor-typo")
    monkeypatch.delenv("INGESTOR_STRICT_PLUGINS", raising=False)
    yield tmp_path
    for name in ("zeta_plugin", "broken_plugin", "typo_plugin"):
        sys.modules.pop(name, None)


def names(pm: pluggy.PluginManager) -> set[str]:
    return {pm.get_name(p) or "" for p in pm.get_plugins()}


def test_entry_point_is_discovered_with_its_distribution(site: Path) -> None:
    install_fake_distribution(site, "ingestor-zeta", "zeta_plugin", GOOD)
    pm = get_plugin_manager()
    assert "zeta_plugin" in names(pm)
    plugin = pm.get_plugin("zeta_plugin")
    info = plugin_info(pm, plugin)
    assert (info.distribution, info.version) == ("ingestor-zeta", "1.2.3")
    assert [dt.key for types in pm.hook.list_types() for dt in types] == ["zeta.things"]


def test_a_broken_plugin_warns_and_the_rest_works(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    install_fake_distribution(site, "ingestor-zeta", "zeta_plugin", GOOD)
    install_fake_distribution(site, "ingestor-broken", "broken_plugin", "raise ImportError('missing dependency foo')")
    with caplog.at_level("WARNING", logger="ingestor.plugins"):
        pm = get_plugin_manager()
    assert "zeta_plugin" in names(pm) and "broken_plugin" not in names(pm)
    assert any(
        "ingestor-broken" in r.getMessage() and "missing dependency foo" in r.getMessage() for r in caplog.records
    )


def test_strict_mode_turns_a_broken_plugin_into_an_error(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_distribution(site, "ingestor-broken", "broken_plugin", "raise ImportError('missing dependency foo')")
    monkeypatch.setenv("INGESTOR_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="ingestor-broken"):
        get_plugin_manager()


def test_load_plugins_limits_loading(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_distribution(site, "ingestor-zeta", "zeta_plugin", GOOD)
    monkeypatch.setenv("INGESTOR_LOAD_PLUGINS", "")
    assert names(get_plugin_manager()) == {"ingestor.engine"}
    monkeypatch.setenv("INGESTOR_LOAD_PLUGINS", "ingestor_zeta")
    assert "zeta_plugin" in names(get_plugin_manager())


def test_misspelled_hookimpl_fails_loudly(site: Path) -> None:
    install_fake_distribution(
        site,
        "ingestor-typo",
        "typo_plugin",
        "from ingestor import hookimpl\n\n@hookimpl\ndef list_typez():\n    return []\n",
    )
    with pytest.raises(pluggy.PluginValidationError, match="list_typez"):
        get_plugin_manager()


def test_a_plugin_may_take_over_ingestion_of_its_service(tmp_path: Path) -> None:
    from ingestor.catalog import DataType
    from ingestor.engine import ServiceResult
    from ingestor.result import FileOutcome, FileStatus
    from ingestor.testing import Harness

    class Custom:
        @hookimpl
        def list_types(self) -> list[DataType]:
            return [DataType(service="custom", name="x", dataset="c_{env}", table="x")]

        @hookimpl
        def ingest(self, service: str, context: object) -> ServiceResult | None:
            if service != "custom":
                return None
            return ServiceResult(
                files=[FileOutcome(path="custom/landing/own", service=service, status=FileStatus.LOADED)]
            )

    h = Harness(tmp_path, Custom())
    run = h.run("--service", "custom", "--json")
    assert run.exit_code == 0 and '"custom/landing/own"' in run.stdout


def _hookspec_names() -> list[str]:
    tree = ast.parse(Path(hookspecs.__file__).read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


@pytest.mark.parametrize("hook", _hookspec_names())
def test_every_hookspec_is_documented_and_tested(hook: str) -> None:
    """As datasette does: a hook without docs or a test fails the suite."""
    repo = Path(__file__).resolve().parents[2]
    readme = (repo / "README.md").read_text()
    assert f"`{hook}`" in readme or f"`{hook}(" in readme, f"README.md does not document the {hook} hook"
    spec = getattr(hookspecs, hook)
    assert spec.__doc__ and spec.__doc__.strip(), f"hookspec {hook} has no docstring"
    tests = "\n".join(p.read_text() for p in repo.glob("*/tests/**/*.py"))
    assert f"def {hook}(" in tests or f"hook.{hook}(" in tests, f"no test implements or calls the {hook} hook"
