"""The Places section of the side panel: the countries photos were taken in, most photos first, each with
its cities below it, with counts (core.places names them offline from GPS when photos are indexed).

Clicking a country searches `country:"Portugal"`, a city `city:Lisbon country:Portugal` (a city name can
be in several countries), so the filter is visible and editable in the search field like a tag or an
album's, and the results are exactly the photos counted.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QTreeWidgetItem

from photosift.app.gui.widgets.library_sections import KIND_ROLE, NAME_ROLE, filter_term
from photosift.app.gui.widgets.side_panel import SidePanel
from photosift.app.tasks import TaskRunner
from photosift.core.catalog.place_rows import PlaceCount
from photosift.core.wording import plural

COUNTRY_ROLE = Qt.ItemDataRole.UserRole + 4  # a city row's country
# Cities listed under a country, most photos first: a tree of thousands of rows helps nobody, and every
# place is a search away (a library of a trip a week for years has a few hundred cities in all).
SHOWN_CITIES = 50
NO_PLACES = "Photos with GPS are listed by country and city once they are indexed."


def place_query(country: str, city: str | None) -> str:
    """The search a click on a place runs."""
    if city is None:
        return filter_term("country", country)
    return f"{filter_term('city', city)} {filter_term('country', country)}"


class PlacesSection(QObject):
    """Fills the Places section (countries, their cities nested) and searches for a clicked place."""

    refreshed = Signal(object)  # the list of PlaceCount shown

    def __init__(self, panel: SidePanel, runner: TaskRunner, search_for: Callable[[str], None]):
        super().__init__(panel)
        self.runner, self._search_for = runner, search_for
        self.section = panel.add_section("Places")
        self.section.setToolTip(0, NO_PLACES)
        panel.item_activated.connect(self._activated)

    def refresh(self, on_error: Callable[[BaseException], None]) -> None:
        self.runner.run_op(lambda lib: lib.places.counts(), self.show, on_error)

    def show(self, counts: list[PlaceCount]) -> None:
        """Replace the rows; countries keep whether the user expanded them."""
        expanded = {self._country_of(item) for item in self._countries() if item.isExpanded()}
        self.section.takeChildren()
        country_item: QTreeWidgetItem | None = None
        for place in counts:
            if place.city is None:
                country_item = self._row(self.section, place)
                country_item.setExpanded(place.country in expanded)
            elif country_item is not None and country_item.childCount() < SHOWN_CITIES:
                self._row(country_item, place)
        self.refreshed.emit(counts)

    @staticmethod
    def _row(parent: QTreeWidgetItem, place: PlaceCount) -> QTreeWidgetItem:
        name = place.city or place.country
        item = QTreeWidgetItem(parent, [name, f"{place.photos:,}"])
        item.setData(0, KIND_ROLE, "city" if place.city else "country")
        item.setData(0, NAME_ROLE, name)
        item.setData(0, COUNTRY_ROLE, place.country)
        where = f"{place.city}, {place.country}" if place.city else place.country
        item.setToolTip(0, f"{plural(place.photos, 'photo')} taken in {where}")
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setData(0, Qt.ItemDataRole.AccessibleTextRole, f"{where}, {plural(place.photos, 'photo')}")
        return item

    def _countries(self) -> list[QTreeWidgetItem]:
        children = (self.section.child(i) for i in range(self.section.childCount()))
        return [item for item in children if item is not None]

    @staticmethod
    def _country_of(item: QTreeWidgetItem) -> str:
        return str(item.data(0, COUNTRY_ROLE))

    def _activated(self, item: QTreeWidgetItem) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind == "country":
            self._search_for(place_query(self._country_of(item), None))
        elif kind == "city":
            self._search_for(place_query(self._country_of(item), str(item.data(0, NAME_ROLE))))
