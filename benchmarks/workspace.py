"""A benchmark's temporary folder (its landing zone, database and staging), shared by the scripts here."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def workspace(prefix: str, keep: bool) -> Iterator[Path]:
    """A fresh temporary folder, removed after the block, unless `keep` (then its path is printed)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        if keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
