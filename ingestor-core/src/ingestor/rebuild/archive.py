"""A service's archive read again (for `ingestor rebuild`): every file under `{service}/archive/`, with the landing
name its rows carry and its data type, matched as a run matches landing files.

A run archives a landing file under the same path below `archive/`, or as `<stem>__<n>.<ext>` when a different
file already had that name there (`landing.numbered`). So an archived file has one or two candidate landing
names: its own path under `landing/`, and that path without the `__<n>` a move added; the ledger (by checksum)
says which one a loaded file had (`RebuildPlan`), and the data type is matched on the first candidate a data type
takes. Hidden files, entries that are no readable file and names that are unsafe or match no data type are left
alone (listed in `skipped`, with why)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingestor.catalog import AmbiguousFile, Catalog, Match
from ingestor.landing import Landing, LandingFile, UnsafeName, check_name, hidden

_NUMBERED = re.compile(r"^(?P<stem>[^.]+)__\d+(?P<ext>\..*)?$")


@dataclass(frozen=True)
class Archived:
    """One archived file: as listed in `archive/`, the landing names it may have had, and its data type."""

    file: LandingFile
    candidates: tuple[str, ...]  # landing object names, the one its data type was matched on first
    match: Match


@dataclass
class Archive:
    """A service's archived files by data type (in name order), and the entries left alone, with why."""

    by_type: dict[str, list[Archived]] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def landing_names(service: str, archived_name: str) -> list[str]:
    """The landing names an archived file may have had: its path under `landing/`, and without a move's `__<n>`."""
    relative = archived_name.removeprefix(f"{service}/archive/")
    folder, slash, base = relative.rpartition("/")
    names = [f"{service}/landing/{relative}"]
    unnumbered = _NUMBERED.fullmatch(base)
    if unnumbered:
        names.append(f"{service}/landing/{folder}{slash}{unnumbered['stem']}{unnumbered['ext'] or ''}")
    return names


def read_archive(service: str, landing: Landing, catalog: Catalog, data_types: set[str] | None = None) -> Archive:
    """List `{service}/archive/` and match each file to a data type (only `data_types`, when given)."""
    prefix = f"{service}/archive/"
    found = Archive()
    for file in landing.list(prefix):
        if hidden(file.name[len(prefix) :]):
            continue
        if file.fault is not None:
            found.skipped.append((file.name, file.fault))
            continue
        try:
            check_name(file.name)
            candidates, match = _matched(service, catalog, landing_names(service, file.name))
        except (UnsafeName, AmbiguousFile) as error:
            found.skipped.append((file.name, str(error)))
            continue
        if match is None:
            found.skipped.append((file.name, "no data type matches"))
            continue
        if data_types and match.data_type.name not in data_types:
            continue
        found.by_type.setdefault(match.data_type.name, []).append(Archived(file, candidates, match))
    return found


def _matched(service: str, catalog: Catalog, names: list[str]) -> tuple[tuple[str, ...], Match | None]:
    """The candidates (the one matched first) and the match of the first candidate a data type takes."""
    for n, name in enumerate(names):
        match = catalog.match(service, name.rsplit("/", 1)[-1])
        if match is not None:
            return (name, *names[:n], *names[n + 1 :]), match
    return tuple(names), None
