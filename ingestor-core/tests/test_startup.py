"""Start-up imports only what is used: every plugin imports `ingestor`, every command imports the CLI.
(How long they take is measured by benchmarks/startup.py; here, which modules they load.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

HEAVY = ("duckdb", "pyarrow", "google", "httpx", "requests", "rich", "pydantic_settings", "ingestor.run.engine")
RUN = ("ingestor.result", "ingestor.run.scan", "ingestor.landing")  # what only a run needs


def loaded_after(code: str, plugins: str = "", cwd: str | None = None) -> set[str]:
    """The top modules (and ingestor's) in sys.modules after running `code` in a fresh interpreter (`plugins`: the
    distributions loaded)."""
    probe = f"{code}\nimport sys; print('\\n'.join(sys.modules))"
    env = {**os.environ, "INGESTOR_LOAD_PLUGINS": plugins}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=cwd, check=True)
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
    heavy = {*HEAVY, *RUN} - ({"rich"} if "list-types" in code else set())  # (it draws a table)
    loaded = loaded_after(code)
    assert "ingestor" in loaded and not loaded & heavy, sorted(loaded & heavy)


def test_list_types_builds_no_settings_tree(tmp_path: Path) -> None:
    """It needs the plugin settings alone (ingestor.environment), not pydantic-settings; python-dotenv only where
    there is a `.env`. (Its tables are rich's.)"""
    listing = "from ingestor.cli import app; app(['list-types'], standalone_mode=False)"
    loaded = loaded_after(listing, plugins="ingestor-garmin", cwd=str(tmp_path))
    assert {"ingestor_garmin", "pydantic"} <= loaded
    unwanted = {*HEAVY, *RUN, "dotenv", "ingestor.settings"} - {"rich"}
    assert not loaded & unwanted, sorted(loaded & unwanted)
    (tmp_path / ".env").write_text("INGESTOR_LOAD_PLUGINS=ingestor-chess\n")
    loaded = loaded_after(listing, plugins="ingestor-chess", cwd=str(tmp_path))
    assert {"ingestor_chess", "dotenv"} <= loaded and "pydantic_settings" not in loaded


def test_public_names_still_resolve_when_first_used() -> None:
    loaded = loaded_after("import ingestor; assert ingestor.__version__; assert ingestor.DataType.__name__")
    assert {"pydantic", "ingestor.catalog"} <= loaded


def test_a_run_that_loads_nothing_imports_no_arrow_metrics_or_rich(tmp_path: Path) -> None:
    """Its one history row is bound as values (an Arrow scan makes DuckDB import pyarrow.dataset); metrics and
    the progress bar are imported only where they are published or drawn."""
    (tmp_path / "run" / "ela-dp-dev" / "garmin" / "landing").mkdir(parents=True)
    arguments = ["run", "--service", "garmin", "--data-dir", str(tmp_path / "run"), "--json"]
    run = f"from ingestor.cli import app; assert app({arguments!r}, standalone_mode=False) == 0"
    loaded = loaded_after(run, plugins="ingestor-garmin", cwd=str(tmp_path))
    assert {"duckdb", "ingestor.run.engine"} <= loaded
    assert not loaded & {"pyarrow", "prometheus_client", "rich"}, sorted(
        loaded & {"pyarrow", "prometheus_client", "rich"}
    )
    history = "SELECT kind, status, files FROM dp_ops_dev._ingestor_history"
    with duckdb.connect(str(tmp_path / "run" / "warehouse_dev.duckdb"), read_only=True) as con:
        assert con.execute(history).fetchall() == [("run", "succeeded", 0)]
