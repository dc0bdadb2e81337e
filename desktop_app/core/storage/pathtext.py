"""File-system paths of any bytes, stored losslessly in SQLite text columns.

On Linux a file name is bytes; one that is not valid UTF-8 (Latin-1 names from old camera
cards, zip archives, Windows shares) reaches Python as a ``str`` with surrogate escapes
(``'caf\\udce9.jpg'``), which SQLite cannot store as text. ``to_db`` replaces each surrogate
with ``ESC`` + four hex digits (and a literal ``ESC`` with two), character by character, so a
folder's stored form is a prefix of its files' stored forms (LIKE/range queries still work),
valid UTF-8 paths are stored unchanged, and ``from_db`` gives back exactly the same path.
"""

from __future__ import annotations

import re

from desktop_app.core.records import readable

__all__ = ["ESC", "from_db", "readable", "to_db"]

# A noncharacter of the last private-use plane: never in a real file name in practice, and
# escaped anyway when it is.
ESC = "\U0010ffff"
_SURROGATE = re.compile("[\ud800-\udfff\U0010ffff]")
_ESCAPED = re.compile(f"{ESC}(?:{ESC}|[0-9a-f]{{4}})")


def to_db(value: str) -> str:
    """``value`` as valid UTF-8 text that ``from_db`` turns back into it."""
    if value.isascii():
        return value
    return _SURROGATE.sub(_escape, value)


def from_db(value: str) -> str:
    """The exact string ``to_db`` was given."""
    if ESC not in value:
        return value
    return _ESCAPED.sub(_unescape, value)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return ESC + ESC if char == ESC else f"{ESC}{ord(char):04x}"


def _unescape(match: re.Match[str]) -> str:
    code = match.group()[1:]
    return ESC if code == ESC else chr(int(code, 16))
