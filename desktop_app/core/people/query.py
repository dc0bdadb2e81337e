"""People in a query: ``person:NAME``, ``-person:NAME``, and a name typed as part of the query.

``Ann at the beach`` (with a person named Ann) keeps the photos Ann is in and ranks them by
``at the beach``; ``person:Ann`` does the same explicitly and ``-person:Ann`` leaves her photos
out. The search policy calls ``parse_person_terms`` first and searches the rest of the query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from desktop_app.core.people.store import PeopleStore, Person

_PERSON = re.compile(r'(?:(?<=\s)|^)(?P<neg>-)?person:(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))')


@dataclass(frozen=True)
class PersonTerms:
    """What a query says about people, and the query without it."""

    rest: str  # the query less the person parts, to search by meaning and words
    wanted: tuple[Person, ...] = ()  # results must show each of them
    unwanted: tuple[Person, ...] = ()  # results must show none of them
    matched: tuple[str, ...] = ()  # the query's parts that named a person, as typed
    unknown: tuple[str, ...] = ()  # ``person:X`` with no person called X
    by_name: tuple[str, ...] = ()  # the people recognised from their name typed as words

    @property
    def any(self) -> bool:
        return bool(self.wanted or self.unwanted or self.unknown)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def find_person(name: str, people: Sequence[Person]) -> Person | None:
    """The person called ``name`` (any case), or with the id ``name``."""
    folded = _fold(name)
    for person in people:
        if person.name and _fold(person.name) == folded:
            return person
    if folded.isdigit():
        return next((p for p in people if p.id == int(folded)), None)
    return None


def parse_person_terms(query: str, people: Sequence[Person], names: bool = True) -> PersonTerms:
    """Split ``query`` into the people it names and the rest.

    A name typed as plain words counts when it is a whole word or phrase of the query (any
    case), longest names first; a word in quotes is left alone (it is a phrase to find).
    ``names=False``: names typed as words are words (the person chip was taken back).
    """
    wanted: list[Person] = []
    unwanted: list[Person] = []
    matched: list[str] = []
    unknown: list[str] = []
    for m in _PERSON.finditer(query):
        name = m["phrase"] if m["phrase"] is not None else m["word"]
        person = find_person(name, people)
        if person is None and not m["neg"]:
            unknown.append(name)
        elif person is None:  # leaving out someone unknown leaves out nothing
            matched.append(m.group(0).strip())
        else:
            (unwanted if m["neg"] else wanted).append(person)
            matched.append(m.group(0).strip())
    rest = _PERSON.sub(" ", query)
    named = sorted((p for p in people if p.name and names), key=lambda p: -len(p.name or ""))
    by_name: list[str] = []
    for person in named:
        pattern = _name_pattern(person.name or "")
        found = pattern.search(_unquoted(rest))
        if found is None:
            continue
        start, end = found.span()
        matched.append(rest[start:end])
        rest = rest[:start] + " " + rest[end:]
        by_name.append(person.name or "")
        if person not in wanted:
            wanted.append(person)
    return PersonTerms(
        " ".join(rest.split()),
        tuple(dict.fromkeys(wanted)),
        tuple(dict.fromkeys(unwanted)),
        tuple(matched),
        tuple(unknown),
        tuple(dict.fromkeys(by_name)),
    )


def _name_pattern(name: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in name.split()]
    return re.compile(r"(?<![\w:\"-])" + r"\s+".join(words) + r"(?![\w:])", re.IGNORECASE)


def _unquoted(text: str) -> str:
    """``text`` with quoted phrases blanked out (same length, so positions hold)."""
    return re.sub(r'"[^"]*"', lambda m: " " * len(m.group(0)), text)


@dataclass(frozen=True)
class PersonFilter:
    """The files a query's people allow: ``only`` (None: any) minus ``without``."""

    only: frozenset[int] | None
    without: frozenset[int]


def person_filter(store: PeopleStore, terms: PersonTerms) -> PersonFilter:
    """The file ids ``terms`` keep and leave out (``person:X`` of nobody keeps nothing)."""
    only: set[int] | None = None
    if terms.unknown:
        only = set()
    for person in terms.wanted:
        files = store.file_ids_of(person.id)
        only = files if only is None else only & files
    without: set[int] = set()
    for person in terms.unwanted:
        without |= store.file_ids_of(person.id)
    return PersonFilter(None if only is None else frozenset(only), frozenset(without))


def people_in(store: PeopleStore, file_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The named people in each file (for a result's why line: "Ann is in it")."""
    out: dict[int, tuple[str, ...]] = {}
    for file_id, faces in store.faces_in(file_ids).items():
        names = tuple(dict.fromkeys(f.name for f in faces if f.name))
        if names:
            out[file_id] = names
    return out
