"""Every document findable first, its other passages embedded after (issue 22).

The text tower costs about as much per passage as the image tower per photo, and a document
has several passages chosen for it (``passages``): embedding them all before the next document
leaves most of a large folder unfindable for most of the run. An index run therefore takes two
passes. The first stores each file's words (the keyword index) and one vector (a document's
first chosen passage: its opening, with its title for most; a document without text keeps its
picture); the second embeds the rest of the chosen passages and a PDF's cover, the same set a
single pass would embed, and records nothing twice. Which documents still wait, and for how
many vectors, is in the catalog (``storage.deep_pending``), so a later run goes on with them.
"""

from __future__ import annotations

from desktop_app.core.indexing.prepare import PreparedFile
from desktop_app.core.storage.deep_pending import StoredParts

__all__ = ["DEEP_PHASE", "first_part", "rest_part"]

DEEP_PHASE = "deeper pass"  # ``Progress.phase`` of the second pass


def first_part(item: PreparedFile) -> None:
    """Keep only a document's first passage for the first pass; count what is left for the
    second (``item.deferred``). A photo, a video or a document without text stays whole."""
    if item.record.kind != "document" or not item.chunks:
        return
    item.deferred = len(item.chunks) - 1 + (item.pixels is not None)
    item.chunks = item.chunks[:1]
    item.pixels = None


def rest_part(item: PreparedFile, stored: StoredParts) -> None:
    """Keep what the file has no vector of yet: its other passages, its cover."""
    item.chunks = [chunk for chunk in item.chunks if chunk.text not in stored.passages]
    if stored.has_image:
        item.pixels = None
    item.frames = [] if stored.has_image else item.frames
