"""Files of kinds Lumen never reads, counted by extension so ``lumen status`` can name them.

The scanner counts them while it walks (``ScanResult.other_kinds``); a full run records the
counts in the catalog's meta table, where any process can read them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Protocol

__all__ = ["NO_EXTENSION", "count_other", "other_kinds", "other_kinds_line", "record_other_kinds"]

META_KEY = "other_kinds"
NO_EXTENSION = "(no extension)"
# Extensions named in the status line, most frequent first; the rest are summed up.
_NAMED = 8


class _Meta(Protocol):
    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


def count_other(counts: Counter[str], name: str) -> None:
    """Counts one file Lumen does not read, by its extension (lower case)."""
    suffix = Path(name).suffix.lower()
    counts[suffix if suffix and len(suffix) <= 12 else NO_EXTENSION] += 1


def record_other_kinds(catalog: _Meta, counts: Counter[str]) -> None:
    """Stores the counts of the last full scan (replacing the previous ones)."""
    catalog.set_meta(META_KEY, json.dumps(dict(counts.most_common()), ensure_ascii=False))


def other_kinds(catalog: _Meta) -> Counter[str]:
    """The counts recorded by the last full scan (empty before one, or if unreadable)."""
    try:
        data = json.loads(catalog.get_meta(META_KEY) or "{}")
    except ValueError:
        return Counter()
    if not isinstance(data, dict):
        return Counter()
    return Counter({str(k): int(v) for k, v in data.items() if isinstance(v, int) and v > 0})


def other_kinds_line(counts: Counter[str]) -> str | None:
    """ "312 files of other kinds: .svg 10, .xcf 4, …" (``None`` when there are none)."""
    total = sum(counts.values())
    if not total:
        return None
    common = counts.most_common(_NAMED)
    named = ", ".join(f"{suffix} {count}" for suffix, count in common)
    more = "…" if len(counts) > _NAMED else ""
    noun = "file" if total == 1 else "files"
    return f"{total} {noun} of other kinds (not indexed): {named}{more}"
