"""Start-up imports only what is used: every plugin imports `ingestor`, every command imports the CLI.
(How long they take is measured by benchmarks/startup.py; here, which modules they load.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("duckdb", "pyarrow", "google", "httpx", "requests", "rich", "pydantic_settings", "ingestor.run.engine")
RUN = ("ingestor.result", "ingestor.run.scan", "ingestor.landing")  # what only a run needs


def loaded_after(code: str) -> set[str]:
    """The top modules (and ingestor's) in sys.modules after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport sys; print('\\n'.join(sys.modules))"
    env = {**os.environ, "INGESTOR_LOAD_PLUGINS": ""}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    names = out.stdout.split()  # (what the code printed is no module name)
    return {n.partition(".")[0] for n in names} | {n for n in names if n.startswith("ingestor.")}


def test_import_ingestor_loads_none_of_its_dependencies() -> None:
    loaded = loaded_after("import ingestor")
    assert not loaded & {"pydantic", "pydantic_core", "pluggy", *HEAVY}, sorted(loaded)


@pytest.mark.parametrize(
    "code",
    [
        "from ingestor import DataType, Service, hookimpl, Kind, Declared, SourceFile",  # what a plugin imports
        "import ingestor.cli",
        "from ingestor.cli import app; app(['list-types'], standalone_mode=False)",
    ],
)
def test_the_contract_and_the_cli_load_no_warehouse_client_http_stack_or_engine(code: str) -> None:
    heavy = {*HEAVY, *RUN} - ({"pydantic_settings", "rich"} if "list-types" in code else set())  # settings, a table
    loaded = loaded_after(code)
    assert "ingestor" in loaded and not loaded & heavy, sorted(loaded & heavy)


def test_public_names_still_resolve_when_first_used() -> None:
    loaded = loaded_after("import ingestor; assert ingestor.__version__; assert ingestor.DataType.__name__")
    assert {"pydantic", "ingestor.catalog"} <= loaded
