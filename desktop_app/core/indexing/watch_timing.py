"""How long the folder watcher waits (apart from ``watcher``, so that `lumen`'s argument parser
reads the defaults without importing watchdog)."""

from __future__ import annotations

DEFAULT_SETTLE_S = 1.0  # a file must keep its size and mtime this long before it is read
DEFAULT_RECONCILE_EVERY_S = 15 * 60.0  # full safety-net rescan
