"""Which nodes of a usearch graph no search can reach: read from the graph's own links.

A search enters the graph's base level at its entry node and walks links from there, so a node
that no walk from the entry reaches is never returned, whatever the beam. Finding those needs
the links themselves, which usearch's Python API does not show; its saved form does (the v2
layout of ``docs/format.md`` in unum-cloud/usearch). Reading the links of a million nodes takes
seconds; searching every node for itself, the other way to find them, took 376 s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

_log = logging.getLogger(__name__)

MAGIC: Final = b"usearch"
HEAD_BYTES: Final = 64  # the dense index's metadata block
CORE_HEAD_BYTES: Final = 40  # size, connectivity, base connectivity, top level, entry slot
KEY_BYTES: Final = 8  # a node starts with its key (uint64) and its level (int16)
LEVEL_BYTES: Final = 2
SLOT_BYTES: Final = 4  # a neighbour count, then the neighbours' slots (uint32 each)
# Nodes whose base-level links are read at a time (bounds the gather's index array: 35 MB at M 32).
READ_CHUNK: Final = 16_384
# Frontier nodes expanded at a time by the walk (bounds its gathered neighbour indices).
WALK_CHUNK: Final = 65_536


class LayoutError(ValueError):
    """The saved graph is not laid out as this module reads it (another usearch format)."""


@dataclass(frozen=True)
class BaseLinks:
    """A graph's base level: each node's key, and its neighbours' slots (CSR: ``starts``)."""

    keys: npt.NDArray[np.uint64]
    starts: npt.NDArray[np.int64]  # node i's neighbours are neighbours[starts[i]:starts[i+1]]
    neighbours: npt.NDArray[np.uint32]
    entry: int


def unreachable(graph: Any) -> npt.NDArray[np.uint64] | None:
    """Keys of the nodes of ``graph`` that no walk from its entry reaches on the base level,
    or None when its saved form cannot be read (the caller then searches each node instead).

    The graph is saved to memory to be read: for a few seconds, a byte per dimension per node
    and its links more (a million 512-d nodes: about 0.8 GB).
    """
    if len(graph) == 0:
        return np.empty(0, dtype=np.uint64)
    try:
        links = base_links(graph.save())
    except LayoutError as error:
        _log.warning("The vector graph's links could not be read (%s); searching instead", error)
        return None
    if len(links.keys) != len(graph):
        _log.warning("The vector graph's links name %d nodes, not %d", len(links.keys), len(graph))
        return None
    return links.keys[~reached(links)]


@dataclass(frozen=True)
class Layout:
    """Where a saved graph's nodes lie: each one's first byte, and the base level's sizes."""

    node_starts: npt.NDArray[np.int64]
    base_connectivity: int
    entry: int

    @property
    def base_bytes(self) -> int:
        """A node's first bytes: its key, level, base-level neighbour count and slots."""
        return _base_bytes(self.base_connectivity)


def layout(saved: bytes | bytearray) -> Layout:
    """Where the nodes of a dense usearch graph saved (format v2) to ``saved`` lie."""
    data = np.frombuffer(saved, dtype=np.uint8)
    head = _head_offset(saved)
    size, connectivity, base_connectivity, _top, entry = (
        int(v) for v in data[head + HEAD_BYTES : head + HEAD_BYTES + CORE_HEAD_BYTES].view("<u8")
    )
    levels_at = head + HEAD_BYTES + CORE_HEAD_BYTES
    levels = data[levels_at : levels_at + LEVEL_BYTES * size].view("<i2").astype(np.int64)
    node_bytes = _base_bytes(base_connectivity) + SLOT_BYTES * (1 + connectivity) * levels
    node_starts = levels_at + LEVEL_BYTES * size + np.cumsum(node_bytes) - node_bytes
    if size == 0 or int(node_starts[-1] + node_bytes[-1]) != len(saved) or entry >= size:
        raise LayoutError("node sizes do not add up to the saved length")
    return Layout(node_starts, base_connectivity, entry)


def base_links(saved: bytes | bytearray) -> BaseLinks:
    """The base-level links of a dense usearch graph saved (format v2) to ``saved``."""
    data = np.frombuffer(saved, dtype=np.uint8)
    where = layout(saved)
    size, base_connectivity = len(where.node_starts), where.base_connectivity
    keys = np.empty(size, dtype=np.uint64)
    counts = np.empty(size, dtype=np.int64)
    slots = []
    for first in range(0, size, READ_CHUNK):
        at = where.node_starts[first : first + READ_CHUNK]
        block = data[at[:, None] + np.arange(where.base_bytes)]
        keys[first : first + len(at)] = block[:, :KEY_BYTES].copy().view("<u8").ravel()
        count = block[:, KEY_BYTES + LEVEL_BYTES : KEY_BYTES + LEVEL_BYTES + SLOT_BYTES]
        counts[first : first + len(at)] = count.copy().view("<u4").ravel()
        listed = block[:, KEY_BYTES + LEVEL_BYTES + SLOT_BYTES :].copy().view("<u4")
        slots.append(listed[np.arange(base_connectivity) < counts[first : first + len(at), None]])
    neighbours = np.concatenate(slots)
    if (counts > base_connectivity).any() or (len(neighbours) and neighbours.max() >= size):
        raise LayoutError("a node lists more neighbours than it may, or one that is not there")
    starts = np.concatenate([[0], np.cumsum(counts)])
    return BaseLinks(keys, starts, neighbours, where.entry)


def reached(links: BaseLinks) -> npt.NDArray[np.bool_]:
    """Which nodes a walk along ``links`` from the entry node reaches (breadth first)."""
    seen = np.zeros(len(links.keys), dtype=bool)
    seen[links.entry] = True
    frontier = np.array([links.entry], dtype=np.int64)
    while len(frontier):
        found = []
        for first in range(0, len(frontier), WALK_CHUNK):
            nodes = frontier[first : first + WALK_CHUNK]
            begin, end = links.starts[nodes], links.starts[nodes + 1]
            lengths = end - begin
            at = np.repeat(begin - np.cumsum(lengths) + lengths, lengths)
            near = links.neighbours[at + np.arange(len(at))]
            found.append(np.unique(near[~seen[near]]))
            seen[found[-1]] = True  # so a later chunk does not find these again
        frontier = np.concatenate(found).astype(np.int64)
    return seen


def _base_bytes(base_connectivity: int) -> int:
    return KEY_BYTES + LEVEL_BYTES + SLOT_BYTES * (1 + base_connectivity)


def _head_offset(saved: bytes | bytearray) -> int:
    """Where the metadata block starts: after the vectors, which come first when saved with."""
    if saved[: len(MAGIC)] == MAGIC:
        return 0
    for width in (4, 8):  # rows and bytes per row, 32- or 64-bit
        if len(saved) < 2 * width:
            break
        rows, row_bytes = np.frombuffer(saved, dtype=f"<u{width}", count=2)
        at = 2 * width + int(rows) * int(row_bytes)
        if saved[at : at + len(MAGIC)] == MAGIC:
            return at
    raise LayoutError("no usearch header found")
