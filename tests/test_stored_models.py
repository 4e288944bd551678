"""Models kept in the catalog: their embedding counts, deleting another model's embeddings and index file
(never the active model's), and the Models dialog switching back instantly and reclaiming space."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FakeEncoder, make_colour_classes
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from test_gui import WAIT_MS, make_window
from test_library import fake_spec, open_library

from photosift.app.gui.dialogs.models import ModelsDialog
from photosift.app.main import ModelProvider
from photosift.core.errors import UserError
from photosift.core.library import Library
from photosift.core.models.registry import ModelRegistry
from photosift.core.models.spec import ModelSpec
from photosift.core.settings import Paths, load_settings


@pytest.fixture
def two_models(home: Path, tmp_path: Path) -> tuple[Library, Library]:
    """A library embedded with the fake model, and the same photos embedded with a second fake model."""
    library = open_library(home)
    library.add_folder(make_colour_classes(tmp_path / "photos", per_class=3))
    library.scan()
    library.index()
    other = library.with_model(fake_spec("fake-colour-2"), FakeEncoder())
    other.index()
    return library, other


def test_stored_models_count_embeddings_and_forget_others(two_models: tuple[Library, Library]) -> None:
    library, other = two_models
    stored = {m.name: m for m in library.stored_models()}
    assert {n: m.embedded for n, m in stored.items()} == {"fake-colour": 9, "fake-colour-2": 9}
    assert stored["fake-colour-2"].key == other.spec.key and stored["fake-colour-2"].dim == 4
    assert other.index_path.is_file()
    with pytest.raises(UserError, match="searching now"):
        library.forget_model(library.model_id)
    assert library.forget_model(other.model_id) == 9
    assert [m.name for m in library.stored_models()] == ["fake-colour"] and not other.index_path.exists()
    assert library.status().embedded == 9  # the active model's embeddings are untouched
    with pytest.raises(UserError, match="no model"):
        library.forget_model(other.model_id)
    again = library.with_model(fake_spec("fake-colour-2"), FakeEncoder())
    assert again.status().pending == 9  # using it again embeds every photo anew


class FakeRegistry(ModelRegistry):
    """The fake colour models as if installed."""

    def specs(self) -> list[ModelSpec]:
        return [fake_spec("fake-colour"), fake_spec("fake-colour-2")]

    def resolve(self, name_or_path: str) -> ModelSpec:
        return fake_spec(name_or_path)


def test_models_dialog_switches_back_instantly_and_deletes(
    qtbot: QtBot, two_models: tuple[Library, Library], home: Path
) -> None:
    library, _ = two_models
    encoders = {"fake-colour": FakeEncoder(), "fake-colour-2": FakeEncoder()}
    models = ModelProvider(FakeRegistry(Paths(home)), lambda spec, _device: encoders[spec.name])
    window, runner, _ = make_window(qtbot, library, models)
    try:
        dialog = ModelsDialog(window, window.parts.state)
        qtbot.waitUntil(lambda: dialog.table.topLevelItemCount() == 2, timeout=WAIT_MS)
        states = [dialog.table.topLevelItem(i).text(3) for i in range(2)]
        assert states == ["Searching now", "Ready: switching to it is instant"]
        dialog.select("fake-colour")
        assert not dialog.switch_button.isEnabled() and not dialog.delete_button.isEnabled()
        dialog.select("fake-colour-2")
        with qtbot.waitSignal(window.parts.state.model_switched, timeout=WAIT_MS) as switched:
            dialog.switch_to_selected()
        assert switched.args[0].spec.name == "fake-colour-2" and load_settings(Paths(home)).model == "fake-colour-2"
        assert encoders["fake-colour-2"].image_forward_count == 0  # all embedded already: nothing recomputed
        qtbot.waitUntil(lambda: dialog.table.topLevelItem(1).text(3) == "Searching now", timeout=WAIT_MS)
        dialog.select("fake-colour")
        box = dialog.confirm_delete()
        assert box is not None
        with qtbot.waitSignal(dialog.refreshed, timeout=WAIT_MS):
            box.button(QMessageBox.StandardButton.Yes).click()
        assert [r.stored.name for r in dialog.rows] == ["fake-colour-2"]
        dialog.close()
    finally:
        window.close()
        runner.shutdown()
        window.parts.thumbnails.wait()
