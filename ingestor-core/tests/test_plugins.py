"""Plugin discovery through real entry points (a dist-info folder on sys.path), the contract, and
isolation: a plugin's mistake quarantines that plugin (or disables one clashing service), never
every service."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ingestor import hookimpl, hookspecs
from ingestor.cli import app
from ingestor.plugins import PluginError, Plugins, current_plugins
from ingestor.settings import PluginSettings

from .conftest import Site


def service(name: str, *types: str, extra: str = "") -> str:
    """A plugin module declaring one service with plain data types."""
    declared = ", ".join(
        f"DataType(service={name!r}, name={t!r}, dataset='z_{{env}}', table={name + '_' + t!r})" for t in types
    )
    return (
        "from ingestor import DataType, Service, hookimpl\n\n"
        f"@hookimpl\ndef services():\n    return [Service(data_types=[{declared}])]\n{extra}"
    )


GOOD = service("zeta", "things")
OTHER = service("other", "things")


def load_plugins() -> Plugins:
    """The installed plugins as the CLI loads them: the plugin settings from the environment."""
    return current_plugins(PluginSettings.from_environment())


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_entry_point_is_discovered_with_its_distribution(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("ingestor-zeta", GOOD)
    site.only()
    loaded = load_plugins()
    [zeta] = [p for p in loaded.plugins if p.distribution == "ingestor-zeta"]
    assert (zeta.name, zeta.version, zeta.hooks, zeta.problems) == ("ingestor_zeta", "1.2.3", ["services"], [])
    assert [dt.key for dt in loaded.catalog.types()] == ["zeta.things"]


def test_load_plugins_limits_loading(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("ingestor-zeta", GOOD)
    monkeypatch.setenv("INGESTOR_LOAD_PLUGINS", "")
    assert load_plugins().plugins == []  # the core is no plugin
    monkeypatch.setenv("INGESTOR_LOAD_PLUGINS", "ingestor_zeta")
    assert list(load_plugins().services) == ["zeta"]


BROKEN = {
    "import": (
        "raise ImportError('missing dependency foo')",
        "failed to import ingestor_bad: ImportError: missing dependency foo",
    ),
    "raises": (
        "from ingestor import hookimpl\n\n@hookimpl\ndef services():\n    raise KeyError('oops')\n",
        "services() raised KeyError: 'oops'",
    ),
    "one service, not a list": (
        "from ingestor import DataType, Service, hookimpl\n\n@hookimpl\ndef services():\n"
        "    return Service(data_types=[DataType(service='bad', name='x', dataset='d', table='x')])\n",
        "services() returned Service; expected a list of Service",
    ),
    "data types, not services": (
        "from ingestor import DataType, hookimpl\n\n@hookimpl\ndef services():\n"
        "    return [DataType(service='bad', name='x', dataset='d', table='x')]\n",
        "services() returned a list holding DataType; expected a list of Service",
    ),
    "invalid regex": (
        service("bad", "x").replace("table='bad_x'", "table='bad_x', file_patterns=('(unclosed',)"),
        "services() raised DataType: Value error, invalid file pattern '(unclosed'",
    ),
    "invalid name": (
        service("bad", "x").replace("name='x'", "name='no spaces'"),
        "services() raised DataType name: Value error",
    ),
    "unknown hint": (
        service("bad", "x").replace("table='bad_x'", "table='bad_x', schema_hints={'a': 'TIMESTAMPZ'}"),
        "services() raised DataType schema_hints.a: Input should be",
    ),
    "misspelled hook": (
        "from ingestor import hookimpl\n\n@hookimpl\ndef service():\n    return []\n",
        "unknown hook service (did you mean services?)",
    ),
    "misspelled argument": (
        "from ingestor import hookimpl\n\n@hookimpl\ndef services(env):\n    return []\n",
        "hook services takes 'env', which the contract does not pass",
    ),
    "a service twice": (
        service("bad", "x").replace("return [Service(data_types=[", "return 2 * [Service(data_types=["),
        "declares service bad twice",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_plugin_is_quarantined_and_the_others_work(
    case: str, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, cause = BROKEN[case]
    site.install("ingestor-zeta", GOOD)
    site.install("ingestor-bad", source)
    site.only()
    landing = tmp_path / "data" / "ela-dp-dev" / "zeta" / "landing"
    landing.mkdir(parents=True)
    (landing / "2025_01_01_00_00_zeta_things.jsonl").write_text('{"id": 1}\n')

    listing = cli("list-types", "--json")
    assert listing.exit_code == 0, listing.output
    assert [d["service"] + "." + d["name"] for d in json.loads(listing.stdout)] == ["zeta.things"]
    run = cli("run", "--service", "zeta", "--data-dir", str(tmp_path / "data"))
    assert run.exit_code == 0, run.output
    assert f"ingestor-bad: {cause}" in run.stderr  # a warning naming the distribution and the cause
    plugins = cli("plugins", "--json")
    assert plugins.exit_code == 0
    [bad] = [row for row in json.loads(plugins.stdout) if row["distribution"] == "ingestor-bad"]
    assert bad["services"] == [] or case == "a service twice"
    assert len(bad["problems"]) == 1 and bad["problems"][0].startswith(cause)
    check = cli("plugins", "--check")
    assert check.exit_code == 1 and "problem: ingestor-bad: " + cause in check.stdout
    both = cli("run", "--service", "zeta,bad", "--data-dir", str(tmp_path / "data"))  # bad fails alone
    assert both.exit_code == 1, both.output
    broken = "failed: bad/landing/ — service bad is not available: its plugin ingestor-bad is broken: "
    assert broken + cause in both.stdout

    monkeypatch.setenv("INGESTOR_STRICT_PLUGINS", "1")  # strict: any problem is fatal
    strict = cli("list-types")
    assert strict.exit_code == 2 and f"ingestor-bad: {cause}" in strict.stderr
    with pytest.raises(PluginError, match="ingestor-bad"):
        load_plugins()


def test_a_service_two_distributions_declare_is_disabled_and_the_rest_works(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.install("ingestor-zeta", GOOD)
    site.install("ingestor-zeta-fork", service("zeta", "things", "more"))
    site.install("ingestor-other", OTHER)
    site.only()
    (tmp_path / "data" / "ela-dp-dev" / "other" / "landing").mkdir(parents=True)
    (tmp_path / "data" / "ela-dp-dev" / "other" / "landing" / "1_other_things.jsonl").write_text('{"id": 1}\n')

    run = cli("run", "--service", "other", "--data-dir", str(tmp_path / "data"))
    assert run.exit_code == 0, run.output
    clash = "service zeta is declared by both ingestor-zeta and ingestor-zeta-fork: zeta is disabled"
    assert clash in run.stderr
    disabled = cli("run", "--service", "zeta", "--data-dir", str(tmp_path / "data"))
    assert disabled.exit_code == 1
    assert "service zeta is disabled: declared by both ingestor-zeta and ingestor-zeta-fork" in disabled.stdout
    [outcome] = json.loads(cli("run", "--service", "zeta", "--data-dir", str(tmp_path / "data"), "--json").stdout)[
        "files"
    ]
    assert (outcome["path"], outcome["status"], outcome["reason_code"]) == ("zeta/landing/", "failed", "plugin_error")
    assert [d["service"] for d in json.loads(cli("list-types", "--json").stdout)] == ["other"]
    assert "is disabled: declared by both" in cli("list-types", "--service", "zeta").stderr
    rows = {row["distribution"]: row for row in json.loads(cli("plugins", "--json").stdout)}
    assert rows["ingestor-zeta"]["problems"] == rows["ingestor-zeta-fork"]["problems"] == [clash]
    assert rows["ingestor-other"]["problems"] == []
    check = cli("plugins", "--check")  # the problem of both, said once; not logged besides
    assert check.exit_code == 1 and check.stdout.count(clash) == 1 and clash not in check.stderr


def test_a_service_clash_spares_the_other_services_of_both(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    two = (
        "from ingestor import DataType, Service, hookimpl\n\n@hookimpl\ndef services():\n    return ["
        "Service(data_types=[DataType(service='zeta', name='a', dataset='d', table='a')]), "
        "Service(data_types=[DataType(service='{own}', name='a', dataset='d', table='{own}_a')])]\n"
    )
    site.install("ingestor-one", two.format(own="one"))
    site.install("ingestor-two", two.format(own="two"))
    site.only()
    loaded = load_plugins()
    assert list(loaded.services) == ["one", "two"]
    assert loaded.disabled == {"zeta": "declared by both ingestor-one and ingestor-two"}


def test_services_writing_one_table_are_disabled_and_the_rest_works(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two services whose data types write one table named after neither: their rows would mix with nothing
    to tell them apart, so both are disabled with a problem naming the table; a third service loads as ever."""
    own_table = (
        "from ingestor import DataType, Service, hookimpl\n\n@hookimpl\ndef services():\n    return ["
        "Service(data_types=[DataType(service='{name}', name='things', dataset='z_{{env}}', table='shared')])]\n"
    )
    site.install("ingestor-alpha", own_table.format(name="alpha"))
    site.install("ingestor-beta", own_table.format(name="beta"))
    site.install("ingestor-other", OTHER)
    site.only()
    loaded = load_plugins()
    assert list(loaded.services) == ["other"]
    why = "alpha.things and beta.things write one table, z_dev.shared, which is named after none of them"
    assert loaded.disabled == {"alpha": why, "beta": why}
    assert loaded.problems == [f"ingestor-alpha: {why}: alpha is disabled", f"ingestor-beta: {why}: beta is disabled"]
    landing = tmp_path / "data" / "ela-dp-dev"
    for name in ("alpha", "other"):
        (landing / name / "landing").mkdir(parents=True)
        (landing / name / "landing" / f"1_{name}_things.jsonl").write_text('{"id": 1}\n')
    run = cli("run", "--service", "alpha,other", "--data-dir", str(tmp_path / "data"), "--json")
    assert run.exit_code == 1  # alpha fails alone: other loads
    outcomes = {(f["service"], f["status"], f["reason"]) for f in json.loads(run.stdout)["files"]}
    assert outcomes == {("alpha", "failed", f"service alpha is disabled: {why}"), ("other", "loaded", None)}
    assert (landing / "alpha" / "landing" / "1_alpha_things.jsonl").exists()  # untouched


def test_two_data_types_of_one_service_writing_one_table_disable_it(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = (
        "from ingestor import DataType, Service, hookimpl\n\n@hookimpl\ndef services():\n    return ["
        "Service(data_types=[DataType(service='zeta', name=n, dataset='z', table='t') for n in ('a', 'b')])]\n"
    )
    site.install("ingestor-zeta", both)
    site.install("ingestor-other", OTHER)
    site.only()
    loaded = load_plugins()
    assert list(loaded.services) == ["other"]
    assert loaded.problems == ["ingestor-zeta: zeta.a and zeta.b write one table, z.t: zeta is disabled"]


def test_a_data_type_may_not_write_the_cores_own_tables() -> None:
    from ingestor import DataType
    from ingestor.catalog import CORE_TABLE_PREFIX
    from ingestor.ops.history import HISTORY_TABLE
    from ingestor.run.ledger import LEDGER_TABLE

    assert LEDGER_TABLE.startswith(CORE_TABLE_PREFIX) and HISTORY_TABLE.startswith(CORE_TABLE_PREFIX)
    for table in (LEDGER_TABLE, HISTORY_TABLE, "_INGESTOR_Ledger", "_ingestor_{env}"):
        with pytest.raises(ValueError, match="are the core's own"):
            DataType(service="x", name="y", dataset="x_{env}", table=table)
    assert DataType(service="x", name="y", dataset="x_{env}", table="ingestor_ledger").table == "ingestor_ledger"


def test_the_contract_is_one_hook_a_plugin_implementing_ingest_is_refused(tmp_path: Path) -> None:
    """The core ingests every service itself: the `ingest` hook of earlier versions is no longer in the contract,
    so a plugin implementing it is told so (before: it took over the run of its service)."""
    from ingestor import DataType, Service
    from ingestor.testing import Harness

    class Custom:
        @hookimpl
        def services(self) -> list[Service]:
            return [Service(data_types=[DataType(service="custom", name="x", dataset="c_{env}", table="x")])]

        @hookimpl
        def ingest(self, service: str, context: object) -> None:
            return None

    assert _hookspec_names() == ["services"]
    with pytest.raises(PluginError, match="unknown hook ingest"):
        Harness(tmp_path, Custom())


def test_the_harness_refuses_a_broken_plugin(tmp_path: Path) -> None:
    from ingestor.testing import Harness

    class Typo:
        @hookimpl
        def service(self) -> list[object]:
            return []

    with pytest.raises(PluginError, match="unknown hook service"):
        Harness(tmp_path, Typo())


def _hookspec_names() -> list[str]:
    tree = ast.parse(Path(hookspecs.__file__).read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


@pytest.mark.parametrize("hook", _hookspec_names())
def test_every_hookspec_is_documented_and_tested(hook: str) -> None:
    """As datasette does: a hook without docs or a test fails the suite."""
    repo = Path(__file__).resolve().parents[2]
    docs = "".join((repo / "docs" / page).read_text() for page in ("plugins.md", "writing-a-plugin.md"))
    assert f"`{hook}`" in docs or f"`{hook}(" in docs, f"the docs do not document the {hook} hook"
    spec = getattr(hookspecs, hook)
    assert spec.__doc__ and spec.__doc__.strip(), f"hookspec {hook} has no docstring"
    tests = "\n".join(p.read_text() for p in repo.glob("*/tests/**/*.py"))
    assert f"def {hook}(" in tests or f"hook.{hook}(" in tests, f"no test implements or calls the {hook} hook"
