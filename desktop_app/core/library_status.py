"""What a library holds, as ``lumen status`` and the window's status line show it."""

from __future__ import annotations

from desktop_app.config import Settings
from desktop_app.core.indexing.other_kinds import other_kinds
from desktop_app.core.priority import QueryPriority
from desktop_app.core.records import INDEXED, LibraryStatus, Progress
from desktop_app.core.storage import deep_pending
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.store import Store


def read_status(
    settings: Settings, store: Store, priority: QueryPriority, switching: Progress | None
) -> LibraryStatus:
    """The library's counts, folders and model; each read waits while a query runs (it is
    background work: ~0.2 s of reads at 100k files). ``switching`` is this process's model
    switch, if any."""
    catalog = store.catalog
    priority.checkpoint()
    counts = catalog.counts()
    priority.checkpoint()
    kinds = catalog.indexed_kinds()
    priority.checkpoint()
    return LibraryStatus(
        data_dir=settings.data_dir,
        model=catalog.get_meta("model") or settings.model,
        folders=catalog.folders(),
        indexed=counts.get(INDEXED, 0),
        pending=counts.get("pending", 0),
        failed=counts.get("failed", 0),
        offline=counts.get("offline", 0),
        vectors=counts.get("vectors", 0),
        index_size=len(store),
        kinds=kinds,
        switching=switching or _switch_on_disk(catalog, counts.get(INDEXED, 0)),
        other_kinds=dict(other_kinds(catalog)),
        deeper_pass=deep_pending.waiting_count(catalog)[0],
    )


def _switch_on_disk(catalog: Catalog, indexed: int) -> Progress | None:
    """A switch another process runs, or one interrupted (``lumen index`` goes on with it)."""
    from desktop_app.core.indexing.runs import SWITCH_KEY

    switch = catalog.get_meta(SWITCH_KEY)
    if not switch:
        return None
    key, _, space = switch.partition("\t")
    left = len(catalog.files_without_space(space))
    return Progress("re-embedding", indexed - left, indexed, note=key)
