"""How results look: the header, one line per hit with why it matched, and the JSON form."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any

from desktop_app.cli.common import plural
from desktop_app.core.query.query_text import SearchHit
from desktop_app.core.query.results import QueryResults, ResultFile
from desktop_app.core.records import file_to_open


def header(results: QueryResults, args: argparse.Namespace) -> str:
    """ "3 results for “a blue square”", "1 result that looks like IMG_001.jpg", …"""
    count = len(results.files)
    shown = f"{count} result{'' if count == 1 else 's'}"
    if args.command == "search":
        like = f" that look{'s' if count == 1 else ''} like {args.like.name}" if args.like else ""
        words = f" for “{args.query}”" if args.query.strip() else ""
        return f"{shown}{like}{words}"
    if args.command == "similar":
        return f"{shown} that look{'s' if count == 1 else ''} like {args.file.name}"
    return f"{shown} about {args.file.name}"


def results_json(results: QueryResults, open_raw: bool) -> dict[str, Any]:
    """The results as `--json` prints them."""
    return {
        "results": [result_json(f, open_raw) for f in results.files],
        "hidden_below_cutoff": results.hidden,
        "relevance_cutoff": results.cutoff,
    }


def _matched_by(hit: SearchHit) -> str:
    """ "person" (a query of people alone), "looks" (the picture) or "text" (a passage)."""
    if hit.why.people and hit.why.similarity is None:
        return "person"
    return "looks" if hit.role == "image" else "text"


def result_json(found: ResultFile, open_raw: bool) -> dict[str, Any]:
    """One result; ``match`` says how it was found ("meaning", or "name" when not embedded yet);
    ``opens`` is the file of its shot that opening it shows (setting ``open_raw``).
    """
    f, h = found.file, found.hit
    companions = h.companions if h else ()
    return {
        "path": str(f.path),
        "match": found.match,
        "relevance": round(h.relevance, 1) if h else None,
        "cosine": round(h.score, 4) if h else None,
        "kind": f.kind,
        "relevant": found.relevant,
        "page": h.page if h else None,
        "at_s": h.at_s if h else None,
        "companions": [str(p) for p in companions],
        "opens": str(file_to_open(f.path, companions, open_raw)),
        "tags": list(h.tags) if h else [],
        "duration_s": f.duration_s,
        "snippet": h.passage if h else None,
        "why": {
            "in_name": list(h.why.in_name),
            "in_folder": list(h.why.in_folder),
            "in_text": list(h.why.in_text),
            "in_tags": list(h.why.in_tags),
            "text_source": h.why.text_source,
            "matched_by": _matched_by(h),
            "keyword_hit": h.why.keyword,
            "people": list(h.why.people),  # the people the query named who are in it
            "person_terms": list(h.why.person_terms),  # the query's parts that named them
        }
        if h
        else None,
        "taken_at": f.taken_at.isoformat() if f.taken_at else None,
        "width": f.width,
        "height": f.height,
        "camera": f.camera,
    }


def print_results(
    results: QueryResults, limit: int, show_all: bool, notes: dict[int, str] | None = None
) -> None:
    """One line per hit: relevance (0–100), path, page; then the passage, why it matched, and
    its note in ``notes`` (by file id: when and where it was taken)."""
    if not results.files:
        print("No results.")
        return
    for found in results.files:
        hit = found.hit
        if hit is None:  # found by its name: not embedded yet, or the model could not be used
            print(f"name  {found.file.path}")
            continue
        marker = "" if hit.relevant else "  (below cutoff)"
        where = f"  [page {hit.page}]" if hit.page else ""
        if hit.at_s is not None:
            from desktop_app.core.extractors.video import format_time  # (imports Pillow)

            where = f"  [at {format_time(hit.at_s)}]"
        print(f"{hit.relevance:4.0f}  {hit.file.path}{where}{marker}")
        if hit.companions:
            print(f"      same shot: {', '.join(p.name for p in hit.companions)}")
        if hit.tags:
            print(f"      tags: {highlight(', '.join(hit.tags), hit.why.in_tags)}")
        if hit.passage:
            print(f"      “{highlight(hit.passage[:160], hit.why.in_text)}”")
        reason = hit.why.describe()
        if reason:
            print(f"      why: {reason}")
        if notes and hit.file.id in notes:
            print(f"      {notes[hit.file.id]}")
    if results.hidden and all(found.relevant for found in results.files):
        print(f"… {plural(results.hidden, 'less relevant result')} hidden; add --all to see them.")
    elif show_all and len(results.files) >= limit:
        print(f"… showing the first {limit}; raise -k to see more.")


def highlight(text: str, words: Sequence[str]) -> str:
    """``text`` with the matched words in bold on a terminal (as typed elsewhere)."""
    if not words or not sys.stdout.isatty():
        return text
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<!\w)({re.escape(word)})(?!\w)", "\033[1m\\1\033[0m", text, flags=re.I)
    return text
