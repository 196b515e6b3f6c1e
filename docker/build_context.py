"""Copy the Docker build context: the repository's files that `.dockerignore` lets through.

    python docker/build_context.py DEST [--root REPO]

`nox -s image_env` builds its wheels from this copy, as `docker build` would from the context,
so a file the image needs but `.dockerignore` leaves out fails there too. The matching follows
Docker's rules: patterns in order, the last one that matches a path or one of its parent
folders decides, `!` lets back in; `*` and `?` stay within a folder, `**` spans folders.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out, i = out + "[" + ("^" + body[1:] if body.startswith("!") else body) + "]", end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


Rule = tuple[bool, re.Pattern[str], str]  # (exception?, regex, pattern)


def read_patterns(path: Path) -> list[Rule]:
    """(exception?, regex, pattern) per line of a .dockerignore."""
    rules = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = line[1:].strip() if exception else line
        pattern = pattern.strip("/")
        if pattern:
            rules.append((exception, _regex(pattern), pattern))
    return rules


def excluded(relative: str, rules: list[Rule]) -> bool:
    """Whether `.dockerignore` leaves this path (POSIX, relative to the context root) out."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for exception, regex, _ in rules:
        if any(regex.fullmatch(c) for c in candidates):
            result = not exception
    return result


def _may_let_back_in(folder: str, rules: list[Rule]) -> bool:
    """Whether an exception could re-include something under an excluded folder."""
    for exception, _, pattern in rules:
        if exception:
            literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
            if literal.startswith(folder + "/") or (folder + "/").startswith(literal):
                return True
    return False


def context_files(root: Path = ROOT) -> Iterator[str]:
    """Relative POSIX paths of the files `docker build` would send from `root`."""
    rules = read_patterns(root / ".dockerignore")
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        dirs[:] = sorted(
            d
            for d in dirs
            if d != ".git" and not (excluded(prefix + d, rules) and not _may_let_back_in(prefix + d, rules))
        )
        for name in sorted(files):
            relative = prefix + name
            if not (Path(folder) / name).is_symlink() and not excluded(relative, rules):
                yield relative


def copy_context(dest: Path, root: Path = ROOT) -> list[str]:
    """Copy the context into `dest` (created); return the files copied."""
    files = list(context_files(root))
    for relative in files:
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
    return files


def main() -> None:
    """Command line: copy the context into DEST."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    files = copy_context(args.dest, args.root)
    print(f"copied {len(files)} files of the build context to {args.dest}")


if __name__ == "__main__":
    main()
