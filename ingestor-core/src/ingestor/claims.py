"""Names two plugins claim: a service, or a table. Installing a plugin never breaks a service that works.

- A service that two distributions declare is disabled, with a problem naming both (`--service` cannot tell them
  apart).
- A table that data types of several services write (their rows would mix with nothing to tell them apart, and
  each one's schema changes would alter the other's table) belongs to the service it is **named after**: the one
  claimant whose name is a whole `_`-separated part of the table's name (`lake_chess__games` is chess's). Only
  the others are disabled, each with a problem naming the table and its owner. When no claimant or several are
  named by it, none owns it and all are disabled. A service whose own data types write one table is disabled.

Why a rule of names and not the rows already in the table (the ledger): the plugins are loaded by every
command, and most never open the warehouse (`plugins`, `list-types`, `demo`, `fetch`: no credentials, no
DuckDB lock); the decision must be the same in all of them, so that `plugins --check` says what `run` does.
The table's name is what every command knows, and it says the same thing before and after an install.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ingestor.catalog import DataType
from ingestor.service import Service


class Claimant(Protocol):
    """A plugin as this module sees it: its distribution, its services, and its problems (appended to)."""

    distribution: str
    services: list[Service]
    problems: list[str]


def settle(claimants: Sequence[Claimant]) -> dict[str, str]:
    """The services to disable, with why: clashing service names first, then shared tables. Each claimant
    whose service is disabled gets a problem saying so."""
    disabled: dict[str, str] = {}
    _service_clashes(claimants, disabled)
    _shared_tables(claimants, disabled)
    return disabled


def named_after(table: str, services: Sequence[str]) -> list[str]:
    """The services of `services` whose name is a whole `_`-separated part of `table` (a table name); the owner
    of the table when there is exactly one."""
    parts = f"_{table.lower()}_"
    return [s for s in services if f"_{s.lower()}_" in parts]


def _service_clashes(claimants: Sequence[Claimant], disabled: dict[str, str]) -> None:
    declared: dict[str, list[Claimant]] = {}
    for claimant in claimants:
        for service in claimant.services:
            declared.setdefault(service.name, []).append(claimant)
    for name, by in declared.items():
        if len(by) > 1:
            both = " and ".join(sorted({c.distribution for c in by}))
            disabled[name] = f"declared by both {both}"
            _tell(by, f"service {name} is declared by both {both}: {name} is disabled")


def _shared_tables(claimants: Sequence[Claimant], disabled: dict[str, str]) -> None:
    writers: dict[str, dict[str, list[tuple[Claimant, DataType]]]] = {}  # table -> service -> its claims
    for claimant in claimants:
        for service in claimant.services:
            for dt in service.data_types:
                table = f"{dt.dataset_for('dev')}.{dt.table_for('dev')}"
                writers.setdefault(table, {}).setdefault(dt.service, []).append((claimant, dt))
    for table, by_service in writers.items():
        every = sorted({dt.key for claims in by_service.values() for _, dt in claims})
        if len(every) < 2:
            continue
        named = named_after(table.rsplit(".", 1)[-1], list(by_service))
        owned_by = named[0] if len(named) == 1 else None
        for name, claims in by_service.items():
            own = sorted({dt.key for _, dt in claims})
            if len(own) > 1:
                why = f"{' and '.join(own)} write one table, {table}"
            elif owned_by is None:
                after = f"after {' and '.join(named)} alike" if named else "after none of them"
                why = f"{' and '.join(every)} write one table, {table}, which is named {after}"
            elif name != owned_by:
                theirs = " and ".join(sorted({dt.key for _, dt in by_service[owned_by]}))
                why = f"{own[0]} writes {table}, the table of {theirs} (it is named after {owned_by})"
            else:
                continue
            disabled.setdefault(name, why)
            _tell([c for c, _ in claims], f"{why}: {name} is disabled")


def _tell(claimants: Sequence[Claimant], problem: str) -> None:
    for claimant in claimants:
        if problem not in claimant.problems:  # two data types or entry points of one plugin: said once
            claimant.problems.append(problem)
