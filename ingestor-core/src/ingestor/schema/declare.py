"""What a data type's declared columns and schema hints make of the table's schema before records arrive."""

from __future__ import annotations

from ingestor.schema.types import Column, Declared, Kind, Struct


def declare(struct: Struct, declared: Declared, notes: list[str], prefix: str = "") -> None:
    """Add a declared column the table lacks; the table's own columns keep their type (nested fields the
    table lacks are added to its struct), with a note where it differs."""
    existing = struct.get(declared.name)
    if existing is None:
        struct.add(declared.column())
    elif existing.fields is not None and declared.fields:
        for item in declared.fields:
            declare(existing.fields, item, notes, f"{prefix}{declared.name}.")
    elif existing.native is not None or (existing.kind, existing.repeated) != (declared.kind, declared.repeated):
        notes.append(
            f"{prefix}{declared.name}: the table's {existing.type_name()} is kept "
            f"(declared {declared.column().type_name()})"
        )


def apply_hint(root: Struct, path: list[str], kind: Kind, notes: list[str]) -> None:
    """Pin the column at `path` (its parents made STRUCTs) to `kind`, unless the table has it."""
    struct = root
    for parent in path[:-1]:
        col = struct.get(parent)
        if col is None:
            col = struct.add(Column(parent, Kind.STRUCT, fields=Struct(), implied=True))
        if col.fields is None:
            if col.stored:  # the table made it something else (e.g. JSON after a conflict)
                notes.append(f"schema hint {'.'.join(path)} not applied: the table's {parent} is {col.kind}")
                return
            raise ValueError(f"schema hint {'.'.join(path)}: {parent} is not a STRUCT")
        struct = col.fields
    existing = struct.get(path[-1])
    if existing is None:
        struct.add(Column(path[-1], kind, pinned=True))
    elif not existing.stored:
        existing.set_type(kind)
        existing.pinned = True
