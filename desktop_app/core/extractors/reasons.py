"""A decoder's failure told in plain words: truncated, damaged, a variant Lumen cannot read."""

from __future__ import annotations

import re

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors.files import short_reason

__all__ = ["decoder_failure", "kind_of_failure"]

_VARIANT_WORDS = re.compile(
    r"not available|unsupported|not supported|unknown (compression|raw mode|format|pixel)|"
    r"cannot handle|not implemented|unrecognized|unsupported .*mode|no decoder|not yet",
    re.IGNORECASE,
)
_TRUNCATED_WORDS = re.compile(
    r"truncated|end of (file|data|stream)|premature|unexpected end|eof|not enough data|"
    r"buffer is not large enough|short read|missing data",
    re.IGNORECASE,
)
_ERRNO_PREFIX = re.compile(r"^\[Errno -?\d+\]\s*")
_QUOTED_PATH = re.compile(r":\s*'[^']*'$")


def kind_of_failure(exc: BaseException) -> str:
    """``"truncated"``, ``"variant"`` or ``"damaged"``: what a decoder's exception means."""
    if isinstance(exc, EOFError):
        return "truncated"
    if isinstance(exc, NotImplementedError):
        return "variant"
    text = str(exc.args[0] if exc.args and isinstance(exc.args[0], bytes) else exc)
    if _VARIANT_WORDS.search(text):
        return "variant"
    if _TRUNCATED_WORDS.search(text):
        return "truncated"
    return "damaged"


def _detail(exc: BaseException) -> str:
    """The library's own words, without an errno prefix or the file's path."""
    text = _QUOTED_PATH.sub("", _ERRNO_PREFIX.sub("", short_reason(exc)))
    return text.rstrip(".") or type(exc).__name__


def decoder_failure(exc: BaseException, what: str, fmt: str | None = None) -> ExtractionError:
    """The ``ExtractionError`` for a decoder's failure on a ``what`` ("image", "video"…)."""
    kind = kind_of_failure(exc)
    if kind == "truncated":
        return ExtractionError(f"truncated {what} (the file ends before its data does)")
    if kind == "variant":
        named = f"{fmt} {what}" if fmt else what
        return ExtractionError(f"a variant of {named} Lumen cannot read ({_detail(exc)})")
    return ExtractionError(f"damaged {what} ({_detail(exc)})")
