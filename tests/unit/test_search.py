"""Tests for the search service's query handling."""

from __future__ import annotations

from desktop_app.core.query.query_text import parse_query


def test_query_parsing_quotes_words_and_phrases() -> None:
    parsed = parse_query('invoice "red circle" 2023-0147 OR -')
    assert parsed.text == "invoice red circle 2023-0147 OR -"
    assert parsed.phrases == ("red circle",)
    assert parsed.match == '"red circle" "invoice" "2023-0147" "OR"'
    assert parse_query("  ").match is None
