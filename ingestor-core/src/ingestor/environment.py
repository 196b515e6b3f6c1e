"""What is read from the environment without the settings tree: the plugin settings.

Every command loads the plugins, and `ingestor list-types` needs nothing else: importing pydantic-settings and
building the whole tree (`ingestor.settings`, whose `Settings.plugins` is this group, read here as well) would
double its start-up. The variables are read as pydantic-settings reads the tree's: names in any case, the
environment over `.env` in the working directory (parsed by python-dotenv, the same reader).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

ENV_FILE = ".env"


def split(value: object) -> object:
    """A comma-separated list (a string, or strings each holding some), its items stripped, empty ones dropped."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


def _unset(value: object) -> object:
    return False if isinstance(value, str) and not value.strip() else value  # INGESTOR_STRICT_PLUGINS=""


class PluginSettings(BaseModel):
    """Which plugins load, and whether a broken one is fatal."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    strict: Annotated[bool, BeforeValidator(_unset)] = Field(False, validation_alias="INGESTOR_STRICT_PLUGINS")
    load: Annotated[list[str] | None, BeforeValidator(split)] = Field(
        None, validation_alias="INGESTOR_LOAD_PLUGINS"
    )  # None: all

    @classmethod
    def from_environment(cls) -> PluginSettings:
        """The group from the environment and `.env` (a ValidationError names the variable)."""
        return cls.model_validate(variables({str(field.validation_alias) for field in cls.model_fields.values()}))


def variables(names: set[str]) -> dict[str, str]:
    """The values of `names` (upper case) set in the environment or `.env`, the environment winning; the names
    match in any case, as in pydantic-settings."""
    wanted = {name.lower(): name for name in names}
    found: dict[str, str] = {}
    if Path(ENV_FILE).is_file():
        from dotenv import dotenv_values

        found.update(_matching(dotenv_values(ENV_FILE), wanted))
    found.update(_matching(os.environ, wanted))
    return found


def _matching(values: Mapping[str, str | None], wanted: dict[str, str]) -> dict[str, str]:
    return {wanted[k.lower()]: v for k, v in values.items() if k.lower() in wanted and v is not None}
