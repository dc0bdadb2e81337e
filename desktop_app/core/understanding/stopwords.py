"""Words that carry no meaning in a query: never a keyword or name match, never a reason.

English function words (the Snowball stemmer's list, less the negations). The stop-word lists
in the registries (``stop-words``, ``stopwordsiso``) hold content words too ("home", "fire",
"world", "room", "face"), which people do search for, so the short list is kept here.
"""

from __future__ import annotations

_WORDS = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours yourself yourselves
"""
STOP_WORDS: frozenset[str] = frozenset(_WORDS.split())


def is_stop_word(word: str) -> bool:
    """Whether ``word`` (one token, any case) carries no meaning of its own."""
    return word.casefold() in STOP_WORDS
