"""`ingestor new-plugin NAME`: a working plugin package from the template in `ingestor/template/`:
a service with two data types (one normalized), a demo, and tests (the conformance suite)."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from string import Template

LAYOUT = {  # file of the new package -> its template
    "pyproject.toml": "pyproject.toml.tmpl",
    "README.md": "README.md.tmpl",
    "src/{package}/__init__.py": "__init__.py.tmpl",
    "src/{package}/plugin.py": "plugin.py.tmpl",
    "src/{package}/demo.py": "demo.py.tmpl",
    "tests/test_{name}.py": "test_plugin.py.tmpl",
}


def new_plugin(name: str, directory: Path) -> Path:
    """Write the package `ingestor-{name}` into `directory` and return its folder."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
        raise ValueError(f"{name!r} is not a service name: lower-case letters, digits and _, a letter first")
    names = {"name": name, "package": f"ingestor_{name}", "distribution": f"ingestor-{name.replace('_', '-')}"}
    target = directory / names["distribution"]
    if target.exists():
        raise FileExistsError(f"{target} exists already")
    template = files("ingestor") / "template"
    for path, source in LAYOUT.items():
        out = target / path.format(**names)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(Template((template / source).read_text()).substitute(names))
    return target
