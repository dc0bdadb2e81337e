"""Tests for the search service's query handling."""

from __future__ import annotations

from desktop_app.core.query.query_text import parse_query


def test_query_parsing_quotes_words_and_phrases() -> None:
    parsed = parse_query('invoice "red circle" 2023-0147 NEAR OR -')
    assert parsed.text == "invoice red circle 2023-0147 NEAR OR -"
    assert parsed.phrases == ("red circle",)
    # Operators are words like any other; "or" carries no meaning, so it is not required.
    assert parsed.match == '"red circle" "invoice" "2023-0147" "NEAR"'
    assert parse_query("  ").match is None
