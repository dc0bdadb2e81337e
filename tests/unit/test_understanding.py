"""A typed query is read the way a person would: its dates, places and kinds become filters,
words that are the subject stay words, and quoting keeps anything literal."""

from __future__ import annotations

from datetime import datetime

import pytest

from desktop_app.core.query.query_text import parse_query
from desktop_app.core.understanding.parse import understand
from desktop_app.core.understanding.places import Gazetteer, KnownPlace
from desktop_app.core.understanding.records import DATE, PLACE, Understood

NOW = datetime(2026, 12, 6, 12, 0)
GAZETTEER = Gazetteer(
    [
        KnownPlace("PT", "Portugal", "Portugal", "country", 3),
        KnownPlace("PT|Lisbon|Lisbon", "Lisbon", "Lisbon, Portugal", "city", 3),
        KnownPlace("JP", "Japan", "Japan", "country", 2),
        KnownPlace("JP|Tokyo|Tokyo", "Tokyo", "Tokyo, Japan", "city", 2),
        KnownPlace("FR|Île-de-France|Paris", "Paris", "Paris, France", "city", 2),
        KnownPlace("FR|Île-de-France", "Île-de-France", "Île-de-France, France", "region", 2),
        KnownPlace("JO", "Jordan", "Jordan", "country", 1),
        KnownPlace("GB", "United Kingdom", "United Kingdom", "country", 1),
        KnownPlace("BR|Sao Paulo|São Paulo", "São Paulo", "São Paulo, Brazil", "city", 1),
        KnownPlace("TR", "Turkey", "Turkey", "country", 0),
    ]
).with_aliases()


def read(query: str) -> Understood:
    return understand(query, GAZETTEER, NOW)


@pytest.mark.parametrize(
    ("query", "label", "start", "end", "rest"),
    [
        ("2019", "2019", datetime(2019, 1, 1), datetime(2019, 12, 31), ""),
        ("beach July 2023", "July 2023", datetime(2023, 7, 1), datetime(2023, 7, 31), "beach"),
        ("summer 2021", "summer 2021", datetime(2021, 6, 1), datetime(2021, 8, 31), ""),
        ("winter 2020 snow", "winter 2020", datetime(2020, 12, 1), datetime(2021, 2, 28), "snow"),
        (
            "receipts from last year",
            "last year (2025)",
            datetime(2025, 1, 1),
            datetime(2025, 12, 31),
            "receipts",
        ),
        (
            "yesterday",
            "yesterday (5 December 2026)",
            datetime(2026, 12, 5),
            datetime(2026, 12, 5),
            "",
        ),
        ("christmas 2022", "Christmas 2022", datetime(2022, 12, 24), datetime(2022, 12, 26), ""),
        ("easter 2024 eggs", "Easter 2024", datetime(2024, 3, 29), datetime(2024, 4, 1), "eggs"),
        ("cars in the 90s", "the 1990s", datetime(1990, 1, 1), datetime(1999, 12, 31), "cars"),
        ("party 5 March 2021", "5 March 2021", datetime(2021, 3, 5), datetime(2021, 3, 5), "party"),
        ("last summer", "summer 2026", datetime(2026, 6, 1), datetime(2026, 8, 31), ""),
    ],
)
def test_each_date_form_is_a_period(
    query: str, label: str, start: datetime, end: datetime, rest: str
) -> None:
    understood = read(query)
    assert understood.date is not None, query
    assert understood.date.label == label
    assert understood.date.start == start
    assert understood.date.end.date() == end.date()
    assert understood.rest == rest


def test_this_week_is_the_current_week() -> None:
    understood = read("screenshots this week")
    assert understood.date is not None
    assert understood.date.start == datetime(2026, 11, 30)  # the Monday
    assert understood.date.end.date() == datetime(2026, 12, 6).date()
    assert understood.kind is not None and understood.kind.label == "screenshots"
    assert understood.rest == ""


@pytest.mark.parametrize(
    ("query", "label", "rest"),
    [
        ("snow in Japan", "Japan", "snow"),
        ("the kids in Lisbon", "Lisbon, Portugal", "the kids"),
        ("Lisbon", "Lisbon, Portugal", ""),
        ("tram Lisbon", "Lisbon, Portugal", "tram"),
        ("food from Paris", "Paris, France", "food"),
        ("beach in the UK", "United Kingdom", "beach"),
        ("museums in sao paulo", "São Paulo, Brazil", "museums"),
        ("parks in Île-de-France", "Île-de-France, France", "parks"),
    ],
)
def test_each_place_form_is_a_filter(query: str, label: str, rest: str) -> None:
    understood = read(query)
    assert understood.place is not None, query
    assert understood.place.label == label
    assert understood.rest == rest


@pytest.mark.parametrize(
    "query",
    [
        "Paris Hilton",
        "a July 4th parade",
        "jordan shoes",
        "Michael Jordan",
        "may flowers",
        "march protest",
        "fall colours",
        "video game",
        "photo booth",
        "invoice 2023-0147",
        "kids on a beach at sunset",
        "new year 2099",  # the future holds no photos
        "roast turkey",  # a country the library has no files from, without "in"
    ],
)
def test_words_that_are_the_subject_do_not_filter(query: str) -> None:
    understood = read(query)
    assert not understood.any, understood
    assert understood.rest == query


def test_quoting_keeps_words_literal() -> None:
    understood = read('"Lisbon" tram "2019"')
    assert not understood.any
    assert understood.rest == '"Lisbon" tram "2019"'


def test_negatives_tags_and_weights_are_left_alone() -> None:
    understood = read("tag:beach -2019 dog:2 2020")
    assert understood.date is not None and understood.date.label == "2020"
    assert understood.rest == "tag:beach -2019 dog:2"


@pytest.mark.parametrize(
    ("query", "kinds", "rest"),
    [
        ("videos of dogs", {"video"}, "dogs"),
        ("pdfs about taxes", {"pdf"}, "taxes"),
        ("raw photos 2019", {"raw"}, ""),
        ("dog videos", {"video"}, "dog"),
        ("videos from Japan", {"video"}, ""),
        ("a photo of a dog", {"image"}, "a dog"),
        ("the video of the beach", {"video"}, "the beach"),
        ("my dog in a video", {"video"}, "my dog"),
    ],
)
def test_kinds_become_filters(query: str, kinds: set[str], rest: str) -> None:
    understood = read(query)
    assert understood.kind is not None
    assert understood.kind.kinds == kinds
    assert understood.rest == rest


def test_everything_at_once_is_described_in_one_line() -> None:
    understood = read("beach in Lisbon July 2023")
    assert understood.describe() == "date July 2023 · place Lisbon, Portugal · “beach”"
    assert [part for part, _ in understood.chips()] == [DATE, PLACE]
    assert understood.chips()[0][1] == "📅 July 2023"
    assert understood.without(DATE).date is None


def test_a_part_taken_back_stays_a_word() -> None:
    understood = understand("beach in Lisbon July 2023", GAZETTEER, NOW, frozenset({PLACE}))
    assert understood.place is None
    assert understood.date is not None
    assert understood.rest == "beach in Lisbon"


def test_places_unknown_to_the_library_are_not_filters() -> None:
    assert not read("bridges in Springfield").any


def test_a_country_without_files_filters_only_when_asked_for() -> None:
    understood = read("mosques in Turkey")
    assert understood.place is not None and understood.place.key == "TR"


def test_stop_words_are_neither_required_nor_a_reason() -> None:
    parsed = parse_query("a red circle on the left")
    assert parsed.terms == ("red", "circle", "left")
    assert parsed.text == "a red circle on the left"  # the meaning keeps every word
    assert parse_query('"on the left"').terms == ("on the left",)
    assert parse_query("the").match is None
