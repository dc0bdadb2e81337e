"""Snippets cut around a keyword query's words, as the keyword index matches them."""

from __future__ import annotations

from desktop_app.core.storage.snippets import snippet, wanted_terms


def _shown(text: str, match: str) -> str:
    return snippet(text, wanted_terms(match), "[", "]")


def test_the_matched_words_are_marked_in_a_short_passage() -> None:
    assert _shown("Invoice 2023-0147 enclosed.", '"2023-0147"') == "Invoice [2023]-[0147] enclosed."
    assert _shown("Dear Jane, your car tax is due.", '"car tax" NOT "lease"') == (
        "Dear Jane, your [car] [tax] is due."
    )


def test_a_long_passage_is_cut_around_the_first_match() -> None:
    text = " ".join(f"word{i}" for i in range(200)) + " Müller & Söhne."
    shown = _shown(text, '"muller"')
    assert shown.startswith("…") and shown.endswith("[Müller] & Söhne.")
    assert len(shown.split()) <= 26


def test_words_only_in_the_name_give_no_snippet() -> None:
    assert _shown("A letter about the flat.", '"invoice"') == ""
    assert _shown("A letter about the invoice.", '"invoice" NOT "letter"') != ""  # NOT: not shown
    assert _shown("Invoices of 2023.", '"invoice"*') == "[Invoices] of 2023."


def test_a_word_is_marked_only_where_it_is_a_whole_word_or_the_start_of_one() -> None:
    assert _shown("Sublicense, licenses and the license.", '"license"') == (
        "Sublicense, licenses and the [license]."
    )
    assert _shown("reinvoice, then Invoices", '"invoice"*') == "reinvoice, then [Invoices]"
    assert _shown("Über_die Brücke, über die Brücke", '"uber"') == (
        "[Über]_die Brücke, über die Brücke"
    )
