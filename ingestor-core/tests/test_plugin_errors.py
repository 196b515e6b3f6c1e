"""A plugin's errors point at its code (the module, file and line of the last frame in its own package), in
`plugins`, `plugins --check` and a run's reasons, with the whole traceback once at DEBUG; and what can be
checked before a run is: each fetcher, settings and demo reference resolves (imported, never called)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from typer.testing import CliRunner, Result

from ingestor.cli import app
from ingestor.testing import Harness

from .conftest import Site

PACKAGE = {  # a plugin package whose module raises, on import, in a helper module of its own
    "ingestor_deep/__init__.py": "",
    "ingestor_deep/helpers.py": "import json\n\nSETTINGS = json.loads('{not json')\n",
    "ingestor_deep/plugin.py": "from ingestor import hookimpl\nfrom ingestor_deep import helpers\n",
}
RAISES = "from ingestor import hookimpl\n\n\n@hookimpl\ndef services():\n    return {}['services']\n"  # line 6


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_import_and_hook_errors_name_the_plugins_file_and_line(site: Site) -> None:
    site.install("ingestor-deep", PACKAGE, entry_point="deep = ingestor_deep.plugin")
    site.install("ingestor-raises", RAISES)
    site.only()
    imported = (
        "ingestor-deep: failed to import ingestor_deep.plugin: JSONDecodeError: Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1) (ingestor_deep/helpers.py, line 3, in ingestor_deep.helpers)"
    )
    raised = "ingestor-raises: services() raised KeyError: 'services' "
    raised += "(ingestor_raises.py, line 6, in ingestor_raises.services)"
    listing = cli("plugins")
    assert (
        listing.exit_code == 0
        and f"problem: {imported}\n" in listing.stdout
        and f"problem: {raised}\n" in listing.stdout
    )
    check = cli("plugins", "--check", "--log-level", "DEBUG")
    assert check.exit_code == 1 and check.stdout.count("problem: ") == 2
    assert check.stderr.count("Traceback (most recent call last)") == 2  # each once, at DEBUG
    assert 'ingestor_deep/helpers.py", line 3, in <module>' in check.stderr


def normalizing_plugin(site: Site) -> object:
    """A plugin module from files (its frames have them): its normalizer fails in a helper of its package."""
    site.install(
        "ingestor-norm",
        {
            "ingestor_norm/__init__.py": "",
            "ingestor_norm/fields.py": "def uid(record):\n    return record['uid']\n",
            "ingestor_norm/plugin.py": (
                "from ingestor import DataType, Service, hookimpl\nfrom ingestor_norm.fields import uid\n\n\n"
                "def normalize(record, source):\n    return {'uid': uid(record)}\n\n\n"
                "@hookimpl\ndef services():\n    return [Service(data_types=[DataType(service='norm', name='x',"
                " dataset='n_{env}', table='x', normalize=normalize)])]\n"
            ),
        },
    )
    return importlib.import_module("ingestor_norm.plugin")


def test_a_normalizer_error_names_the_plugins_file_and_line(site: Site, tmp_path: Path) -> None:
    h = Harness(tmp_path, normalizing_plugin(site))
    h.land("norm/landing/1_norm_x.jsonl", [{"uid": 1}, {"id": 2}])
    run = h.run("--service", "norm", "--json", "--log-level", "DEBUG")
    assert run.exit_code == 1
    [outcome] = json.loads(run.stdout)["files"]
    assert outcome["reason"] == (
        "line 2: the norm plugin could not normalize the record: KeyError: 'uid' "
        "(ingestor_norm/fields.py, line 2, in ingestor_norm.fields.uid)"
    )
    assert run.stderr.count("Traceback (most recent call last)") == 1


REFERENCES = (
    "from ingestor import DataType, Service, hookimpl\n\nclass NotSettings:\n    pass\n\nNOT_CALLABLE = 3\n\n\n"
    "@hookimpl\ndef services():\n    return [Service(data_types=[DataType(service='refs', name='x', dataset='r_{env}',"
    " table='x')], fetcher='ingestor_refs:missing', settings='ingestor_refs:NotSettings',"
    " demo='ingestor_refs:NOT_CALLABLE')]\n"
)


def test_plugins_check_resolves_every_reference_without_calling_it(site: Site, tmp_path: Path) -> None:
    site.install("ingestor-refs", REFERENCES)
    site.only()
    problems = [
        "the fetcher of refs, 'ingestor_refs:missing', does not resolve: AttributeError: module 'ingestor_refs' "
        "has no attribute 'missing'",
        "the settings of refs, 'ingestor_refs:NotSettings', is not a pydantic-settings class",
        "the demo of refs, 'ingestor_refs:NOT_CALLABLE', is not callable",
    ]
    check = cli("plugins", "--check")
    assert check.exit_code == 1
    assert [line for line in check.stdout.splitlines() if line.startswith("problem:")] == [
        f"problem: ingestor-refs: {problem}" for problem in problems
    ]
    assert check.stderr == ""  # printed once, not logged besides
    assert cli("plugins").exit_code == 0  # listed, not a failure
    landing = tmp_path / "data" / "ela-dp-dev" / "refs" / "landing"
    landing.mkdir(parents=True)
    (landing / "1_refs_x.jsonl").write_text('{"id": 1}\n')
    assert cli("run", "--service", "refs", "--data-dir", str(tmp_path / "data")).exit_code == 0  # never imported
    fetch = cli("fetch", "--service", "refs", "--data-dir", str(tmp_path / "data"))
    assert fetch.exit_code == 2 and "the fetcher of refs could not be loaded: AttributeError" in fetch.stderr
