"""The chess plugin (entry point `chess` of the group `ingestor`): one service, declared."""

from __future__ import annotations

from ingestor import Service, hookimpl
from ingestor_chess import types


@hookimpl
def services() -> list[Service]:
    """chess.com: five data types, the legacy combined view, a fetcher and a demo."""
    return [
        Service(
            name="chess",
            data_types=types.DATA_TYPES,
            views=(types.STG_CHESS_RAW,),
            fetcher="ingestor_chess.fetcher:fetch_chess",
            settings="ingestor_chess.settings:ChessSettings",
            demo="ingestor_chess.demo:landing_files",
        )
    ]
