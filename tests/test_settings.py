"""Settings persist under PHOTOSIFT_HOME, survive unknown keys, and report unreadable files clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from photosift.core.errors import UserError
from photosift.core.settings import SETTINGS_SCHEMA_VERSION, Paths, Settings, load_settings, save_settings


def test_home_override_puts_everything_under_one_folder(home: Path) -> None:
    paths = Paths.default()
    assert paths.root == home
    for child in (paths.database, paths.indexes, paths.models, paths.cache, paths.logs):
        assert home in child.parents


def test_round_trip_and_defaults(home: Path) -> None:
    paths = Paths.default()
    assert load_settings(paths) == Settings()
    chosen = Settings(model="tiny", decode_workers=3, excluded_folders=("/a/b",), watch_polling=True)
    save_settings(paths, chosen)
    assert load_settings(paths) == chosen
    assert load_settings(paths).schema_version == SETTINGS_SCHEMA_VERSION


def test_unknown_keys_from_a_newer_version_are_ignored(home: Path) -> None:
    paths = Paths.default()
    paths.root.mkdir(parents=True)
    paths.settings_file.write_text('{"model": "x", "future_option": 1, "schema_version": 99}')
    assert load_settings(paths).model == "x"


def test_corrupt_settings_file_is_a_clear_error(home: Path) -> None:
    paths = Paths.default()
    paths.root.mkdir(parents=True)
    paths.settings_file.write_text("{not json")
    with pytest.raises(UserError, match="could not be read"):
        load_settings(paths)
