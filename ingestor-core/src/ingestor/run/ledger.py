"""The load ledger: one row per landing file loaded, written with the rows themselves.

A re-run consults it so that a file still in landing after a crash between load and
move is archived, not loaded again. It lives in each target dataset as
`_ingestor_ledger`, so it travels with the data it describes.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ingestor.schema import Column, Kind, Struct

LEDGER_TABLE = "_ingestor_ledger"


class LedgerEntry(BaseModel):
    """One loaded landing file."""

    source_name: str
    checksum: str
    size: int
    service: str
    data_type: str
    table_name: str
    rows: int
    run_id: str
    loaded_at: datetime


def ledger_schema() -> Struct:
    """The ledger table's columns."""
    kinds = {
        "source_name": Kind.STRING,
        "checksum": Kind.STRING,
        "size": Kind.INT64,
        "service": Kind.STRING,
        "data_type": Kind.STRING,
        "table_name": Kind.STRING,
        "rows": Kind.INT64,
        "run_id": Kind.STRING,
        "loaded_at": Kind.TIMESTAMP,
    }
    struct = Struct()
    for name, kind in kinds.items():
        struct.add(Column(name, kind))
    return struct
