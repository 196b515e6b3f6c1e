"""Columns the seed system's downstream SQL reads from the Garmin tables, declared with the type
the seed gave them, so that they exist from the first load even while no value has come (facts
from pyLancelle/ELA_DP's dbt staging models and its loader's typing rules; see the README)."""

from __future__ import annotations

from ingestor.schema import Declared, Kind

STR = Kind.STRING

DECLARED: dict[str, tuple[Declared, ...]] = {
    "activities": (
        Declared("summarizedDiveInfo", Kind.STRUCT, fields=(Declared("summarizedDiveGases", STR, repeated=True),)),
    ),
}
DECLARED["activity_details"] = DECLARED["activities"]
