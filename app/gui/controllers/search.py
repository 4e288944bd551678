"""Live search: the field's query, run in the background as the user pauses typing.

The field always holds the whole query (its photos as chips, widgets.query_chips), so a search started
from a menu, a drop or a paste stays visible and can be edited and run again. Answers to a query that a
newer one overtook are dropped. An empty field shows the timeline: every photo, newest first, under month
headings. The photos of the query are marked in the results: the photo a "find similar" started from
leads them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QListView

from photosift.app.gui.controllers.queries import (
    ChipPicture,
    TimelinePage,
    chip_picture_op,
    follows_tags_or_albums,
    query_op,
    timeline_op,
)
from photosift.app.gui.presenter import failure_sentence
from photosift.app.gui.widgets.query_badges import QueryBadges
from photosift.app.gui.widgets.query_chips import ImageTerm, QueryField
from photosift.app.gui.widgets.results_model import ResultsModel
from photosift.app.tasks import TaskRunner
from photosift.core.search.records import SearchPage
from photosift.core.wording import plural

DEBOUNCE_MS = 250  # typing pauses longer than this start a search; shorter ones are mid-word
FIRST_PAGE = 200  # enough to fill a large screen of thumbnails with one query
NEXT_PAGE = 200
QUERY_ROLE = Qt.ItemDataRole.UserRole + 40  # True on the row of a photo that is part of the query


class SearchController(QObject):
    results_shown = Signal()  # a page of results is in the model (the first page, or one more)
    error_shown = Signal(str)  # the inline query error changed ("" when cleared)
    no_results = Signal()
    summary_changed = Signal(str)  # how many photos are on show, or why there are none
    new_results = Signal(bool)  # True: new photos may match, the user scrolled away; False: shown again

    def __init__(
        self, runner: TaskRunner, field: QueryField, error_label: QLabel, view: QListView, model: ResultsModel
    ):
        super().__init__(field)
        self.runner, self.field, self.error_label, self.view, self.model = runner, field, error_label, view, model
        self._seq = 0  # bumped per query; answers to older queries are dropped
        self._timeline_total: int | None = None  # photos in the timeline while it is on show
        self._query_photos: frozenset[int] = frozenset()  # the photo chips of the query on show
        self._asked = ""  # the query of the latest search started
        self.shown_query = ""  # the query whose results are on show (the field may hold a newer one)
        self._shown_seq = 0  # the search whose results are on show
        self.badges = QueryBadges(view, model.row_of)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run_query)
        field.textEdited.connect(lambda _: self._debounce.start())
        field.returnPressed.connect(self._tidy_and_run)
        field.chips_changed.connect(self.run_query)
        field.picture_wanted.connect(self._fetch_picture)
        model.more_wanted.connect(self._load_more)
        model.filled.connect(self._shown_more)  # the rest of a large page, made turn by turn

    def text(self) -> str:
        """The whole query: its chips' terms and the typed text."""
        return self.field.query().strip()

    def run_query(self, keep_scroll: bool = False) -> None:
        """Search for the field's text now (the debounce timer and Enter call this).

        `keep_scroll` refreshes the current results in place (new photos indexed) instead of starting over.
        """
        self._run(max(FIRST_PAGE, self.model.rowCount()) if keep_scroll else FIRST_PAGE, keep_scroll)

    def _tidy_and_run(self) -> None:
        """Enter: the typed image terms become chips before the search, which starts without the debounce."""
        self.field.tidy()
        self.run_query()

    def _run(self, limit: int, keep_scroll: bool) -> None:
        self._debounce.stop()
        self._seq += 1
        seq, text = self._seq, self.text()
        self._asked = text
        self._query_photos = frozenset(
            t.photo_id for t in self.field.terms() if t.photo_id is not None and not t.subtract
        )
        self.new_results.emit(False)
        if not text:
            self.show_error("")
            self.runner.run_op(
                timeline_op(0, limit),
                lambda timeline: self._first_page(seq, timeline.page, keep_scroll, timeline),
                lambda exc: self._failed(seq, exc),
            )
            return
        self.runner.run_op(
            query_op(text, 0, limit),
            lambda page: self._first_page(seq, page, keep_scroll),
            lambda exc: self._failed(seq, exc),
        )

    def follows_tags_or_albums(self) -> bool:
        """Whether a change of tags or albums can change the results on show (the timeline's cannot)."""
        text = self.text()
        return bool(text) and follows_tags_or_albums(text)

    def refresh(self) -> None:
        """Show photos indexed since the query ran, without moving the grid under the user.

        At the top of the results (where new matches usually land) the first page is fetched again,
        which costs one page; further down, re-ranking thousands of loaded rows would make the grid
        jump and stall, so `new_results` offers a refresh instead.
        """
        if self.view.verticalScrollBar().value() <= self.view.iconSize().height():
            self._run(limit=FIRST_PAGE, keep_scroll=True)
        else:
            self.new_results.emit(True)

    def search_for(self, text: str) -> None:
        """Put `text` in the field (its photos and image files as chips) and search for it at once."""
        self.field.set_query(text)
        self.run_query()

    def _first_page(self, seq: int, page: SearchPage, keep_scroll: bool, timeline: TimelinePage | None = None) -> None:
        if seq != self._seq:
            return
        self.shown_query, self._shown_seq = self._asked, seq
        scroll = self.view.verticalScrollBar().value()
        self.show_error("")
        self.model.reset(page, timeline.dates if timeline else None, timeline.total if timeline else None)
        self._mark_query_photos()
        self._timeline_total = timeline.total if timeline else None
        self._summarise()
        if keep_scroll:
            self.view.verticalScrollBar().setValue(scroll)
        elif not page.hits:
            self.no_results.emit()
        else:
            first = self.model.row_of(page.hits[0].photo_id)
            self.view.setCurrentIndex(self.model.index(first or 0, 0))
        self.results_shown.emit()

    def _summarise(self) -> None:
        """Say how many photos there are (the grid alone cannot: its pages load as it scrolls)."""
        # The query's own photos (a find similar's photo leads its results) are not among its matches.
        asked = sum(1 for photo_id in self._query_photos if self.model.row_of(photo_id) is not None)
        shown, more = self.model.hit_count() - asked, self.model.canFetchMore(QModelIndex()) or self.model.filling()
        if self._timeline_total is not None:
            summary = f"{plural(self._timeline_total, 'photo')}, newest first" if self._timeline_total else ""
        elif not shown:
            summary = f"No photos match “{self.text()}”. Clear the search to see every photo."
        elif more and self.model.hits()[0].score is None:  # filters only: listed by date, not ranked
            summary = f"The first {shown:,} matching photos, newest first; more load as you scroll"
        elif more:
            summary = f"The {shown:,} best matches so far; more load as you scroll"
        else:
            summary = f"{shown:,} matching photo{'s' if shown != 1 else ''}"
        self.summary_changed.emit(summary)

    def _load_more(self, offset: int, limit: int = NEXT_PAGE) -> None:
        seq, text = self._seq, self.shown_query  # the next page of the results on show, whatever was typed since
        if self._shown_seq != seq:  # a newer search is on its way: its first page replaces these rows
            self.model.loading_failed()
            return

        def done(page: SearchPage, dates: dict[int, datetime] | None = None) -> None:
            if seq == self._seq:
                self.model.append(page, dates)
                self._shown_more()

        def failed(exc: BaseException) -> None:
            if seq == self._seq:
                self.model.loading_failed()
            self._failed(seq, exc)

        if not text:
            self.runner.run_op(timeline_op(offset, limit), lambda t: done(t.page, t.dates), failed)
        else:
            self.runner.run_op(query_op(text, offset, limit), done, failed)

    def _shown_more(self) -> None:
        self._mark_query_photos()
        self._summarise()
        self.results_shown.emit()

    def _failed(self, seq: int, exc: BaseException) -> None:
        sentence = failure_sentence(exc)
        if sentence is None:
            self.runner.present(exc)  # a bug: the crash dialog and the log
        elif seq == self._seq:
            self.show_error(sentence)  # the last results stay: the query is probably half typed

    def show_error(self, message: str) -> None:
        if message != self.error_label.text():
            self.error_label.setText(message)
            self.error_label.setVisible(bool(message))
            self.error_shown.emit(message)

    def _mark_query_photos(self) -> None:
        """Mark the query's own photos (a "Query" badge, and in the tooltip and the spoken name), so the
        photo a "find similar" started from reads as the question, not as its best answer."""
        self.badges.show_for(self._query_photos)
        for photo_id in self._query_photos:
            row = self.model.row_of(photo_id)
            if row is None:
                continue
            item = self.model.item(row)
            if item is None or item.data(QUERY_ROLE):
                continue
            item.setData(True, QUERY_ROLE)
            item.setToolTip(f"The photo this search started from\n{item.toolTip()}")
            item.setData(f"Query photo, {PurePath(self.model.hit(row).path).name}", Qt.ItemDataRole.AccessibleTextRole)

    def _fetch_picture(self, term: ImageTerm) -> None:
        """A chip's picture, decoded in the background; a photo that cannot be shown keeps its name only."""

        def failed(exc: BaseException) -> None:
            if failure_sentence(exc) is None:
                self.runner.present(exc)

        def show(picture: ChipPicture) -> None:
            self.field.show_picture(term, picture.image, picture.path)

        self.runner.run_op(chip_picture_op(term, self.field.chip_side()), show, failed)
