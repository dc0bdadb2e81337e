"""The people part of a search: a query's person terms become a filter on the files, the rest
of the query is searched as usual, and each hit says who of those asked for is in it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.core.people.query import PersonTerms, people_in
from desktop_app.core.people.service import People
from desktop_app.core.query.query_text import MatchReason, SearchHit, SearchResults
from desktop_app.core.query.results import QueryResults
from desktop_app.core.records import FileFilter, FileRecord

NOBODY = -1  # a person id no one has: ``person:X`` of an unknown X keeps no file

Search = Callable[[str, FileFilter | None], SearchResults]
Recent = Callable[[int, FileFilter], list[FileRecord]]


def people_query(
    people: People, text: str, file_filter: FileFilter | None, names: bool = True
) -> tuple[str, FileFilter | None, PersonTerms]:
    """``text`` less its person terms, ``file_filter`` narrowed to match them, and the terms
    (``names=False``: names typed as words stay words)."""
    terms = people.terms(text, names)
    if not terms.any:
        return text, file_filter, terms
    base = file_filter or FileFilter()
    wanted = {p.id for p in terms.wanted} | ({NOBODY} if terms.unknown else set())
    narrowed = dataclasses.replace(
        base,
        people=base.people | wanted,
        without_people=base.without_people | {p.id for p in terms.unwanted},
    )
    return terms.rest, narrowed, terms


def people_results(
    people: People,
    terms: PersonTerms,
    rest: str,
    file_filter: FileFilter | None,
    k: int,
    search: Search,
    recent: Recent,
) -> SearchResults:
    """The results of a query that named people: ``rest`` searched within their photos (their
    photos newest first when nothing else was asked), each hit saying who is in it. A
    ``person:X`` of no one known finds nothing."""
    if terms.unknown:
        return SearchResults()
    if any(ch.isalnum() for ch in rest) or file_filter is None or not terms.wanted:
        results = search(rest, file_filter)
    else:
        hits = [SearchHit(r, 0.0, "image", relevance=100.0) for r in recent(k, file_filter)]
        results = SearchResults(hits, 0, None)
    return with_people(people, terms, results)


def with_people(people: People, terms: PersonTerms, results: SearchResults) -> SearchResults:
    """Each hit with the people asked for that are in it, and the query words that named them."""
    wanted = {p.name for p in terms.wanted if p.name}
    if not wanted or not results.hits:
        return results
    names = people_in(people.store, [h.file.id for h in results.hits])
    hits = []
    for hit in results.hits:
        found = tuple(n for n in names.get(hit.file.id, ()) if n in wanted)
        why: MatchReason = dataclasses.replace(hit.why, people=found, person_terms=terms.matched)
        hits.append(dataclasses.replace(hit, why=why))
    return SearchResults(hits, results.hidden, results.cutoff)


def with_person_chips(people: People | None, results: QueryResults) -> QueryResults:
    """``results`` whose understood query names the people recognised by their name typed
    as words (the window shows each as a removable chip)."""
    understood = results.understood
    if people is None or understood is None:
        return results
    by_name = people.terms(understood.rest).by_name
    if not by_name:
        return results
    return dataclasses.replace(results, understood=dataclasses.replace(understood, people=by_name))


class NamesAsWords:
    """The search policy with people's names typed as words (the person chip taken back)."""

    def __init__(self, policy: Any) -> None:
        self._policy = policy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._policy, name)

    def search(
        self,
        text: str,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        like: Path | None = None,
    ) -> SearchResults:
        """``policy.search`` with ``names=False``."""
        return self._policy.search(text, k, file_filter, show_all, like, names=False)  # type: ignore[no-any-return]
