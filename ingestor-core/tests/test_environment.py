"""The plugin settings are read without pydantic-settings (ingestor.environment), as pydantic-settings reads the
rest of the tree: any case, the environment over `.env`, an empty INGESTOR_STRICT_PLUGINS off, `""` no plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingestor.environment import PluginSettings, split
from ingestor.settings import Settings


class AsPydanticSettingsReadsThem(BaseSettings):
    """The group as it was, a pydantic-settings group: what the light reader must agree with."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True, populate_by_name=True)

    strict: bool = Field(False, validation_alias="INGESTOR_STRICT_PLUGINS")
    load: Annotated[list[str] | None, NoDecode] = Field(None, validation_alias="INGESTOR_LOAD_PLUGINS")

    _split_load = field_validator("load", mode="before")(split)

    @field_validator("strict", mode="before")
    @classmethod
    def _unset(cls, value: object) -> object:
        return False if isinstance(value, str) and not value.strip() else value


@pytest.mark.parametrize(
    ("environment", "dotenv"),
    [
        ({}, ""),
        ({"INGESTOR_LOAD_PLUGINS": "ingestor-a, ingestor_b,"}, ""),
        ({"INGESTOR_LOAD_PLUGINS": ""}, "INGESTOR_LOAD_PLUGINS=ingestor-a\n"),  # the environment wins, even empty
        ({}, "ingestor_load_plugins=ingestor-a\nINGESTOR_STRICT_PLUGINS=yes\n"),  # any case
        ({"ingestor_strict_plugins": "1"}, "export INGESTOR_STRICT_PLUGINS=0\n"),
        ({"INGESTOR_STRICT_PLUGINS": " "}, ""),
    ],
)
def test_the_plugin_settings_are_read_as_pydantic_settings_reads_them(
    environment: dict[str, str], dotenv: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("INGESTOR_LOAD_PLUGINS", "INGESTOR_STRICT_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if dotenv:
        (tmp_path / ".env").write_text(dotenv)
    expected = AsPydanticSettingsReadsThem().model_dump()
    assert PluginSettings.from_environment().model_dump() == expected
    assert Settings().plugins.model_dump() == expected  # the tree's group is the same reading


def test_an_invalid_plugin_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGESTOR_STRICT_PLUGINS", "maybe")
    with pytest.raises(ValidationError, match="INGESTOR_STRICT_PLUGINS"):
        PluginSettings.from_environment()
