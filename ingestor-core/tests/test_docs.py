"""What the documentation site (`nox -s docs`) relies on, checked without building it.

The plugin API reference is rendered by mkdocstrings from docstrings, and mkdocstrings silently leaves
out a member that has none: so every public class, function and field has one (a docstring, or for a
field or an alias the string right below it, which griffe reads), and every public name is on a reference
page. The configuration page's table names exactly the environment variables the settings read."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from pydantic import AliasChoices, BaseModel

import ingestor
from ingestor.plugins import load_plugins
from ingestor.settings import Settings

SOURCE = Path(ingestor.__file__).parent
DOCS = SOURCE.parents[2] / "docs"
# Beyond `ingestor.__all__`: what a plugin's tests and a `--json` reader use.
EXTRA = [
    "ingestor.testing.Harness",
    "ingestor.testing.Declarations",
    "ingestor.conformance.PluginConformance",
    "ingestor.conformance.FetcherConformance",
    "ingestor.result.IngestResult",
    "ingestor.result.FileOutcome",
    "ingestor.result.FileStatus",
    "ingestor.result.TableLoad",
    "ingestor.errors.ReasonCode",
    "ingestor.fetching.FetchStatus",
    "ingestor.fetching.DataTypeFetch",
]
FOREIGN = {"Field", "SecretStr"}  # pydantic's, re-exported for a fetcher's settings


@cache
def _module(name: str) -> ast.Module:
    path = SOURCE.parent.joinpath(*name.split("."))
    return ast.parse((path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text())


def _definition(module: str, name: str) -> tuple[ast.AST, str | None]:
    """Where `module.name` is defined (following imports, as griffe does): its node and docstring."""
    body = _module(module).body
    for node, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
            return node, ast.get_docstring(node)
        if _assigns(node) == name:
            return node, _string(after)
        if isinstance(node, ast.ImportFrom) and node.module and any(a.name == name for a in node.names):
            return _definition(node.module, name)
    raise AssertionError(f"{module}.{name} is not defined")


def _assigns(node: ast.AST) -> str | None:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name | ast.Attribute):
        target: ast.expr = node.target
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    else:
        return None
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return target.attr
    return target.id if isinstance(target, ast.Name) else None


def _on_self(node: ast.Assign | ast.AnnAssign) -> bool:
    target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
    return isinstance(target, ast.Attribute)


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
        return node.value.value
    return None


def _undocumented_members(cls: ast.ClassDef) -> list[str]:
    """Public methods without a docstring; public fields (class-level, or set on `self` in `__init__`),
    and enum members, without the string right below them."""
    missing = []
    inits = [n.body for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    for body, in_init in [(cls.body, False), *[(init, True) for init in inits]]:
        for node, after in zip(body, [*body[1:], None], strict=True):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and not ast.get_docstring(node):
                missing.append(node.name)
            name = _assigns(node)
            if in_init and not (isinstance(node, ast.Assign | ast.AnnAssign) and _on_self(node)):
                continue
            if name and not name.startswith("_") and name != "model_config" and not _string(after):
                missing.append(name)
    return missing


def public() -> list[str]:
    return [f"ingestor.{name}" for name in ingestor.__all__ if name not in FOREIGN] + EXTRA


def _locate(path: str) -> tuple[str, str]:
    module, _, name = path.rpartition(".")
    if module == "ingestor" and name in ingestor._FETCHING:  # imported on first use, from ingestor.fetching
        module = "ingestor.fetching"
    elif module == "ingestor" and name in ingestor._LAZY:  # likewise, from its module
        module = ingestor._LAZY[name]
    return module, name


def test_every_public_name_and_field_has_a_docstring() -> None:
    missing = []
    for path in public():
        node, doc = _definition(*_locate(path))
        if not doc:
            missing.append(path)
        if isinstance(node, ast.ClassDef):
            missing += [f"{path}.{member}" for member in _undocumented_members(node)]
    assert missing == []


def test_every_public_name_is_on_a_reference_page() -> None:
    rendered = {
        line.removeprefix(":::").strip()
        for page in (DOCS / "reference").glob("*.md")
        for line in page.read_text().splitlines()
        if line.startswith(":::")
    }
    shown = {p for p in public() if p in rendered or ".".join(_locate(p)) in rendered}
    assert sorted(set(public()) - shown) == []


def _variables(kind: type[BaseModel], prefix: str = "") -> set[str]:
    """The environment variables a settings class reads, its nested groups' included (the plugin settings are
    a plain model, read by ingestor.environment)."""
    found = set()
    for name, info in kind.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            found |= _variables(info.annotation)
            continue
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias or f"{prefix}{name}"]
        found |= {c.upper() for c in choices if isinstance(c, str) and c != name}
    return found


def test_the_configuration_page_names_every_setting_and_no_other() -> None:
    expected = _variables(Settings, prefix="INGESTOR_")
    for service in load_plugins(strict=True, warn=False).services.values():
        settings = service.load_settings()
        if settings is not None:
            expected |= _variables(settings)
    rows = [line.split("|") for line in (DOCS / "configuration.md").read_text().splitlines() if line.startswith("|")]
    on_page = {name for row in rows if len(row) > 3 for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row[2])}
    assert {"missing from the page": sorted(expected - on_page), "not a setting": sorted(on_page - expected)} == {
        "missing from the page": [],
        "not a setting": [],
    }
