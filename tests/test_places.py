"""Places: GPS from EXIF becomes city, region and country offline (the bundled GeoNames cities), stored
when photos are indexed and filled in for photos indexed before; `place:`, `country:` and `near:`
filters; counts by country and city."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from place_helpers import CITIES, make_city_photos, make_gps_photo
from sqlalchemy import delete, func, select
from test_library import open_library

from photosift.core.catalog import schema as s
from photosift.core.catalog.place_rows import PlaceCount, distance_km, fold
from photosift.core.errors import Cancelled, QueryError
from photosift.core.library import Library
from photosift.core.places import Gazetteer, Places, load_gazetteer
from photosift.core.progress import CancelToken, Progress
from photosift.core.settings import Settings


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()  # cached for the process: loaded once for every test


@pytest.fixture
def library(home: Path, tmp_path: Path, gazetteer: Gazetteer) -> Iterator[Library]:
    lib = open_library(home)
    lib.add_folder(make_city_photos(tmp_path / "travel"))
    lib.scan()
    lib.index()
    yield lib
    lib.close()


def names(lib: Library, query: str) -> set[str]:
    return {Path(hit.path).stem for hit in lib.search(query, limit=100).hits}


@pytest.mark.parametrize(
    ("lat", "lon", "city", "country", "code"),
    [
        (38.72, -9.14, "Lisbon", "Portugal", "PT"),
        (35.68, 139.69, "Tokyo", "Japan", "JP"),
        (-33.87, 151.21, "Sydney", "Australia", "AU"),
        (40.71, -74.0, "New York City", "United States", "US"),
        (51.5, -0.12, "London", "United Kingdom", "GB"),
        (-22.9, -43.2, "Rio de Janeiro", "Brazil", "BR"),
    ],
)
def test_known_cities_are_named(
    gazetteer: Gazetteer, lat: float, lon: float, city: str, country: str, code: str
) -> None:
    (place,) = gazetteer.lookup([lat], [lon])
    assert place is not None
    assert (place.city, place.country, place.country_code) == (city, country, code)


def test_the_city_is_the_town_not_the_nearest_district(gazetteer: Gazetteer) -> None:
    """Central Lisbon's nearest GeoNames place is the district Intendente; the photo's city is Lisbon,
    while a town of its own 20 km away (Sintra) keeps its own name."""
    lisbon, sintra = gazetteer.lookup([38.72, 38.8029], [-9.14, -9.3817])
    assert lisbon is not None and sintra is not None
    assert lisbon.locality != "Lisbon" and lisbon.city == "Lisbon"
    assert sintra.city != "Lisbon"


def test_the_open_sea_has_no_place(gazetteer: Gazetteer) -> None:
    assert gazetteer.lookup([0.0, -48.9], [-30.0, -123.4]) == [None, None]  # mid-Atlantic, Point Nemo


def test_across_the_date_line(gazetteer: Gazetteer) -> None:
    """A point at 179.9 W is 38 km from Beringovskiy (179.35 E) across the date line: 359 degrees apart
    in raw longitude, where a search over degrees finds nothing near."""
    (place,) = gazetteer.lookup([63.06], [-179.9])
    assert place is not None and (place.locality, place.country_code) == ("Beringovskiy", "RU")


def test_indexing_stores_places_from_exif_gps(library: Library) -> None:
    with library.catalog.engine.connect() as conn:
        rows = {r.photo_id: r for r in conn.execute(select(s.places))}
    assert len(rows) == len(CITIES) + 2  # every photo with GPS; the one without has no row
    assert rows[library.search("place:Tokyo").hits[0].photo_id].country == "Japan"


def test_place_filters(library: Library) -> None:
    assert names(library, "place:Lisbon") == {"lisbon", "lisbon-2", "belem"}
    assert names(library, "place:lisboa") == set()  # GeoNames' English names: no alias table
    assert names(library, "place:Tokyo") == {"tokyo"}
    assert names(library, 'place:"new south wales"') == {"sydney"}  # a region
    assert names(library, "place:japan") == {"tokyo"}  # a country is a place too
    assert names(library, "place:sao paulo") == set()  # unquoted: place:sao, then a text term...
    assert names(library, 'place:"sao paulo"') == {"sao-paulo"}  # accents ignored (São Paulo)
    assert names(library, "place:Tokyo place:Sydney") == {"tokyo", "sydney"}  # repeated: any


def test_country_filters(library: Library) -> None:
    assert names(library, "country:Portugal") == {"lisbon", "lisbon-2", "belem", "porto"}
    assert names(library, "country:pt") == names(library, "country:Portugal")
    assert names(library, "country:Portugal place:Porto") == {"porto"}  # different keys: all hold
    assert names(library, "country:Narnia") == set()


def test_near_filters(library: Library) -> None:
    assert names(library, "near:38.72,-9.14,2km") == {"lisbon", "lisbon-2"}
    assert names(library, "near:38.72,-9.14,10km") == {"lisbon", "lisbon-2", "belem"}
    assert names(library, "near:38.72,-9.14,500m") == {"lisbon"}
    assert names(library, "near:38.72,-9.14,300") == {"lisbon", "lisbon-2", "belem", "porto"}  # bare: km
    with pytest.raises(QueryError, match="near:"):
        library.search("near:38.72,-9.14")


def test_place_filters_rank_within_the_place(library: Library) -> None:
    """A text term ranks only the photos the place lets through (blue is Belém's colour)."""
    hits = library.search("blue place:Lisbon").hits
    assert Path(hits[0].path).stem == "belem" and len(hits) == 3


def test_photos_indexed_before_places_are_filled_in(library: Library) -> None:
    with library.catalog.engine.begin() as conn:
        conn.execute(delete(s.places))
    assert names(library, "place:Lisbon") == set() and library.places.unnamed() == len(CITIES) + 2
    library.index()  # nothing to embed; the catch-up still names the places
    assert names(library, "place:Lisbon") == {"lisbon", "lisbon-2", "belem"}
    with library.catalog.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(s.places)).scalar_one() == len(CITIES) + 2
    assert library.places.unnamed() == 0


def test_counts_by_country_then_city(library: Library) -> None:
    counts = library.places.counts()
    assert counts[:4] == [
        PlaceCount("Portugal", None, 4),
        PlaceCount("Portugal", "Lisbon", 3),
        PlaceCount("Portugal", "Porto", 1),
        PlaceCount("Australia", None, 1),
    ]
    assert {c.country for c in counts} == {"Portugal", "Australia", "Brazil", "Japan"}


def test_photo_place(library: Library) -> None:
    tokyo = library.search("place:Tokyo").hits[0].photo_id
    place = library.places.of_photo(tokyo)
    assert place is not None and (place.city, place.region, place.country) == ("Tokyo", "Tokyo", "Japan")
    no_gps = next(h.photo_id for h in library.search("green", limit=20).hits if "no-gps" in h.path)
    assert library.places.of_photo(no_gps) is None


def test_distance_and_fold() -> None:
    import numpy as np

    lisbon_porto = distance_km(np.array([38.72]), np.array([-9.14]), 41.15, -8.61)
    assert lisbon_porto[0] == pytest.approx(274.0, abs=3.0)  # great-circle, Lisbon to Porto
    assert fold(" São PAULO ") == "sao paulo" and fold("Zürich") == "zurich"


def test_city_is_the_panel_city_while_place_also_matches_regions(library: Library, tmp_path: Path) -> None:
    """Sintra lies in the region of Lisbon: place:Lisbon finds it, city:Lisbon (the panel's click) does not."""
    make_gps_photo(tmp_path / "travel" / "sintra.jpg", 38.8029, -9.3817)
    library.scan()
    library.index()
    assert "sintra" in names(library, "place:Lisbon")
    assert names(library, "city:Lisbon") == {"lisbon", "lisbon-2", "belem"}
    assert names(library, "city:lisbon country:PT") == {"lisbon", "lisbon-2", "belem"}


def indexed_library(home: Path, tmp_path: Path, gazetteer: Callable[[], Gazetteer]) -> Library:
    """A library of the city photos, scanned, indexed two photos a batch, with its own place data."""
    lib = open_library(home, settings=Settings(batch_size=2, decode_workers=1))
    lib.places = Places(lib.catalog.engine, gazetteer)
    lib.add_folder(make_city_photos(tmp_path / "travel"))
    lib.scan()
    return lib


def stop_after_a_batch(cancel: CancelToken) -> Callable[[Progress], None]:
    def progress(report: Progress) -> None:
        if report.stage == "index" and report.done >= 2:
            cancel.cancel()

    return progress


def test_a_cancelled_run_keeps_the_places_of_the_photos_it_stored(
    home: Path, tmp_path: Path, gazetteer: Gazetteer
) -> None:
    lib = indexed_library(home, tmp_path, lambda: gazetteer)
    try:
        lib.places.load()  # loaded: each batch is named as it is stored
        cancel = CancelToken()
        with pytest.raises(Cancelled) as stopped:
            lib.index(stop_after_a_batch(cancel), cancel)
        assert stopped.value.partial.embedded < len(CITIES) + 3
        assert "belem" in names(lib, "place:Lisbon")  # the first batch: belem.jpg, lisbon.jpg
        assert lib.places.unnamed() == 0  # every photo stored with GPS is named
    finally:
        lib.close()


def test_the_place_data_loads_on_its_own_thread_and_a_cancel_does_not_wait_for_it(
    home: Path, tmp_path: Path, gazetteer: Gazetteer
) -> None:
    release, threads = threading.Event(), []

    def slow() -> Gazetteer:
        threads.append(threading.current_thread().name)
        assert release.wait(30), "the test never let the place data load"
        return gazetteer

    lib = indexed_library(home, tmp_path, slow)
    try:
        cancel = CancelToken()
        with pytest.raises(Cancelled):
            lib.index(stop_after_a_batch(cancel), cancel)  # returns while the data is still loading
        assert threads == ["places-load"] and lib.places.unnamed() >= 2
        release.set()
        lib.index()  # the next run names them
        assert lib.places.unnamed() == 0 and "lisbon" in names(lib, "place:Lisbon")
    finally:
        release.set()
        lib.close()
