"""The search policy of a library: text, a picture, or both → ranked files; only reads.

Search, similar, related documents, a file as a query, tag filters, tags on results, pairing
the files of one shot, and the dates, places and kinds a typed query names (``understood``),
over the store and the model slot. Nothing here writes: no writer lock, no index save, no
catalog write (``results`` adds the name fallback on top).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from desktop_app.core.embedding.model_slot import ModelSlot
from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import extract
from desktop_app.core.people.search_hook import (
    NamesAsWords,
    people_query,
    people_results,
    with_person_chips,
)
from desktop_app.core.people.service import People
from desktop_app.core.query.beside import QuerySteps
from desktop_app.core.query.duplicates import DUPLICATE_COSINE, DuplicateGroup, find_duplicates
from desktop_app.core.query.pairs import pair_up, same_shot
from desktop_app.core.query.query_text import (
    MatchReason,
    ParsedQuery,
    SearchHit,
    SearchResults,
    combine,
    found_terms,
    parse_query,
)
from desktop_app.core.query.query_vectors import QueryVectors
from desktop_app.core.query.results import QueryResults
from desktop_app.core.query.search import SearchService
from desktop_app.core.query.understood import PlaceNames, search_understood
from desktop_app.core.records import PENDING, FileFilter, FileRecord
from desktop_app.core.storage.store import Store
from desktop_app.core.superseded import stop_if_superseded
from desktop_app.core.understanding.parse import understand
from desktop_app.core.understanding.records import BY_RELEVANCE, PERSON, Understood

__all__ = ["QueryGate", "QueryPolicy"]


class QueryGate(Protocol):
    """Held while a query runs so that background work gives way (``QueryPriority``)."""

    def query(self) -> AbstractContextManager[None]: ...


FileQuery = tuple[np.ndarray, str, frozenset[int]]  # a file's query vector, its role, its id


class QueryPolicy:
    """Answers a library's queries from its store, with the model the slot says answers."""

    def __init__(
        self,
        store: Store,
        models: ModelSlot,
        priority: QueryGate,
        people: People | None = None,
    ) -> None:
        self._store = store
        self._models = models
        self._people = people  # core/people: a query's person terms (issue 23)
        self.priority = priority  # indexing's threads wait while a query runs
        self._service: SearchService | None = None
        self._service_for: tuple[object, str] | None = None  # the (index, space) it ranks over
        self.place_names = PlaceNames(store.catalog)  # the gazetteer queries are read with
        self._vectors = QueryVectors()  # the last few query texts' vectors
        self._steps = QuerySteps()  # steps of a query run beside it (the keyword search)

    def _search(self) -> SearchService:
        """The ranking over the store's current index and space (both change on a switch)."""
        store, service, made_for = self._store, self._service, self._service_for
        if service is None or made_for is None or made_for[0] is not store.index:
            service = None
        if service is None or made_for is None or made_for[1] != store.space:
            service = self._service = SearchService(
                store.catalog, store.index, store.space, self._steps
            )
            self._service_for = (store.index, store.space)
        return service

    def close(self) -> None:
        """Let the threads of query steps go (the library is closing)."""
        self._steps.close()

    @property
    def queries_ready(self) -> bool:
        """Whether a text query can be answered by meaning without waiting for a model load."""
        return self._models.queries_ready

    def search(
        self,
        text: str,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        like: Path | None = None,
        names: bool = True,
    ) -> SearchResults:
        """Files that match ``text`` by meaning or by its exact words, best first (see
        ``Library.search``); ``names=False``: people's names typed are words, not people."""
        if self._people is not None:  # People (issue 23): person:NAME, -person:, NAME typed
            rest, narrowed, terms = people_query(self._people, text, file_filter, names)
            if terms.any:
                return people_results(
                    self._people,
                    terms,
                    rest,
                    narrowed,
                    k,
                    lambda q, f: self.search(q, k, f, show_all, like),
                    self._store.catalog.recent_files,
                )
        parsed = parse_query(text)
        if parsed.tags or parsed.without_tags:
            base = file_filter or FileFilter()
            file_filter = dataclasses.replace(
                base,
                tags=base.tags | set(parsed.tags),
                without_tags=base.without_tags | set(parsed.without_tags),
            )
        if file_filter is not None and file_filter.tags and not (parsed.parts or like):
            return pair_up(self._tagged(file_filter, k, parsed.tags), self._store.catalog)
        if not (parsed.parts or like is not None) or not self._store.space:
            return SearchResults()
        with self.priority.query():  # indexing's threads wait meanwhile
            return self._by_meaning(parsed, k, file_filter, show_all, like)

    def search_understood(
        self,
        text: str,
        limit: int,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        *,
        like: Path | None = None,
        load_model: bool = True,
        sort: str = BY_RELEVANCE,
        literal: frozenset[str] = frozenset(),
        now: datetime | None = None,
    ) -> QueryResults:
        """What a typed query shows: its dates, places and kinds as filters, the rest searched
        (see ``understood.search_understood``); the one query the CLI and the window ask."""
        names = PERSON not in literal  # the person chip was not taken back
        results = search_understood(
            self if names else NamesAsWords(self),
            self.place_names.gazetteer(),
            text,
            limit,
            file_filter,
            show_all,
            like=like,
            load_model=load_model,
            sort=sort,
            literal=literal,
            now=now,
        )
        return with_person_chips(self._people, results) if names else results

    def understand(self, text: str, literal: frozenset[str] = frozenset()) -> Understood:
        """How ``text`` reads: its dates, places and kinds, and the rest to search by meaning."""
        return understand(text, self.place_names.gazetteer(), None, literal)

    def _by_meaning(
        self,
        parsed: ParsedQuery,
        k: int,
        file_filter: FileFilter | None,
        show_all: bool,
        like: Path | None,
    ) -> SearchResults:
        stop_if_superseded()  # typed past already: before the keyword search's first read
        encoder = self._models.query_encoder()
        self._models.check_space(encoder)
        search = self._search()
        # The keyword search beside the text tower: neither needs the other's answer.
        words = self._steps.start(search.keyword_hits, parsed, k, file_filter)
        parts = [(self._vectors.encode(encoder, t), w) for t, w in parsed.parts]
        stop_if_superseded()
        exclude: frozenset[int] = frozenset()
        if like is not None:
            picture, _role, exclude = self.file_query(like)
            parts.insert(0, (picture, 1.0))
        negatives = [self._vectors.encode(encoder, t) for t in parsed.negatives]
        query = combine(parts, negatives)
        results = search.hybrid(
            query,
            parsed,
            k,
            file_filter,
            show_all,
            negatives,
            exclude_file_ids=exclude,
            keyword_hits=words.result,
        )
        stop_if_superseded()
        return pair_up(self.with_tags(results, parsed.terms + parsed.tags), self._store.catalog)

    def similar(
        self,
        path: Path,
        k: int = 50,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
        at_s: float | None = None,
    ) -> SearchResults:
        """Files that look like ``path``; a video's frame nearest ``at_s`` when given."""
        if not self._store.space:
            return SearchResults()
        catalog = self._store.catalog
        with self.priority.query():  # indexing's threads wait meanwhile
            query, role, exclude = self.file_query(path, at_s)
            # Looks are compared with looks: a photo's neighbours by their pixels, not their text.
            roles = frozenset({"image"}) if role == "image" else None
            record = catalog.file_by_path(path.expanduser().absolute())
            if record is not None:  # the other files of the same shot are not "similar" to it
                shot = catalog.files_named_like(record.path)
                exclude |= {r.id for r in shot if same_shot(record.path, r.path)}
            results = self._search().by_vector(query, k, file_filter, exclude, show_all, roles)
            return pair_up(self.with_tags(results, ()), catalog)

    def related_documents(
        self,
        path: Path,
        k: int = 10,
        file_filter: FileFilter | None = None,
        show_all: bool = False,
    ) -> SearchResults:
        """Documents whose passages are closest to ``path``, one hit per document."""
        if not self._store.space:
            return SearchResults()
        query, _role, exclude = self.file_query(path)
        documents = dataclasses.replace(file_filter or FileFilter(), kinds=frozenset({"document"}))
        return self._search().by_vector(query, k, documents, exclude, show_all, frozenset({"text"}))

    def similar_to_vector(
        self, query: np.ndarray, k: int = 50, file_filter: FileFilter | None = None
    ) -> SearchResults:
        """Files nearest a query vector."""
        return self._search().by_vector(query, k, file_filter)

    def file_query(self, path: Path, at_s: float | None = None) -> FileQuery:
        """A file's query vector (its stored image vectors when indexed), its role, and its id.

        ``at_s``: of a video's frames, only the one nearest that time.
        """
        path = path.expanduser().absolute()
        catalog, space = self._store.catalog, self._store.space
        record = catalog.file_by_path(path)
        if record is not None:
            stored = catalog.file_vectors(record.id, space)
            frames = [(owner, vec) for owner, vec in stored if owner.at_ms is not None]
            if at_s is not None and frames:
                _owner, nearest = min(frames, key=lambda f: abs((f[0].at_ms or 0) - at_s * 1000))
                return nearest, "image", frozenset({record.id})
            images = [vec for owner, vec in stored if owner.role == "image"]
            vectors = images or [vec for _, vec in stored]
            if vectors:
                role = "image" if images else "text"
                return _normalised(np.mean(vectors, axis=0)), role, frozenset({record.id})
        query, role = self._embed_file(path)
        return query, role, frozenset({record.id}) if record is not None else frozenset()

    def _embed_file(self, path: Path) -> tuple[np.ndarray, str]:
        embedder = self._models.space_embedder()
        self._models.check_space(embedder)
        try:
            extraction = extract(path, embedder.image_size)
        except OSError as exc:
            raise ExtractionError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if extraction.image is not None:
            return embedder.encode_images([extraction.image])[0], "image"
        if extraction.frames:  # a video: what its scenes look like, together
            frames = embedder.encode_images([f.image for f in extraction.frames])
            return _normalised(frames.mean(0)), "image"
        if extraction.passages:
            texts = [p.text for p in extraction.passages[:8]]
            return _normalised(embedder.encode_texts(texts).mean(0)), "text"
        raise ExtractionError(f"{path} has nothing to compare (no image, no text)")

    def with_tags(self, results: SearchResults, terms: tuple[str, ...]) -> SearchResults:
        """Each hit with its tags, and the query's words or tag filters found among them."""
        tags = self._store.catalog.tags_of(h.file.id for h in results.hits)
        hits = []
        for hit in results.hits:
            names = tuple(t.name for t in tags.get(hit.file.id, []))
            found = tuple(t for t in terms if any(found_terms((t,), n) for n in names))
            why = dataclasses.replace(hit.why, in_tags=found) if found else hit.why
            same = names == hit.tags and why is hit.why  # (an untagged hit: no copy made)
            hits.append(hit if same else dataclasses.replace(hit, tags=names, why=why))
        return SearchResults(hits, results.hidden, results.cutoff)

    def _tagged(self, file_filter: FileFilter, k: int, terms: tuple[str, ...]) -> SearchResults:
        """``tag:beach`` alone: the files with those tags, surest first."""
        hits = [
            SearchHit(
                record, score or 0.0, "image", relevance=100.0, why=MatchReason(in_tags=terms)
            )
            for record, score in self._store.catalog.tagged_files(file_filter, k)
        ]
        return self.with_tags(SearchResults(hits, 0, None), terms)

    def duplicates(
        self,
        threshold: float = DUPLICATE_COSINE,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[DuplicateGroup]:
        """Groups of photos that are the same picture (copies, edits, bursts), biggest first."""
        store = self._store
        if not store.space:
            return []
        return find_duplicates(store.catalog, store.index, store.space, threshold, progress)

    def recent(
        self,
        k: int = 100,
        file_filter: FileFilter | None = None,
        *,
        offset: int = 0,
        pending: bool = False,
    ) -> list[FileRecord]:
        """Newest indexed files (what an empty query shows), ``k`` from position ``offset``;
        ``pending``: files not embedded yet follow them."""
        return self._store.catalog.recent_files(k, file_filter, offset, pending)

    def find_by_name(
        self,
        words: Sequence[str],
        limit: int = 100,
        file_filter: FileFilter | None = None,
        *,
        pending_only: bool = False,
    ) -> list[FileRecord]:
        """Indexed or not-yet-embedded files whose name holds every word (no model needed);
        ``pending_only``: only files not embedded yet."""
        return self._store.catalog.find_by_name(words, limit, file_filter, pending_only)

    def file(self, path: Path) -> FileRecord | None:
        """The catalog's record of ``path``, if it has one."""
        return self._store.catalog.file_by_path(path.expanduser().absolute())

    def has_pending(self) -> bool:
        """Whether files wait to be embedded (a first run: names fill the newest files)."""
        return self._store.catalog.has_files_with_status(PENDING)


def _normalised(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)
