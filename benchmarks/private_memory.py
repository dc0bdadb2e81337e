"""Run `lumen ARGS` in this process and print its peak private memory (RssAnon) to stderr.

    PYTHONPATH=SRC python benchmarks/private_memory.py --data-dir DIR search "license"

Peak RSS (``/usr/bin/time``) also counts the pages of mapped files: the vector index and the
catalog are mapped, and the kernel maps whole large folios of the page cache around each read
(Linux 6.x), so a fresh search at 1M vectors shows ~1.7 GB of RSS of which ~0.1 GB is the
process's own. This samples ``RssAnon`` every 2 ms and prints ``LUMEN-PRIVATE-MB <peak>``; the
Lumen code is whatever ``desktop_app`` the path finds (``PYTHONPATH``).
"""

from __future__ import annotations

import re
import sys
import threading
import time

_peak_kb = 0
_running = True


def _rss_anon_kb() -> int:
    with open("/proc/self/status") as status:
        found = re.search(r"RssAnon:\s+(\d+)", status.read())
    return int(found.group(1)) if found else 0


def _sample() -> None:
    global _peak_kb
    while _running:
        _peak_kb = max(_peak_kb, _rss_anon_kb())
        time.sleep(0.002)


def main() -> None:
    global _running
    threading.Thread(target=_sample, daemon=True).start()
    from desktop_app.cli import main as lumen

    sys.argv = ["lumen", *sys.argv[1:]]
    code: str | int | None = 0
    try:
        lumen()
    except SystemExit as exit_:
        code = exit_.code
    _running = False
    peak = max(_peak_kb, _rss_anon_kb())
    print(f"LUMEN-PRIVATE-MB {peak / 1024:.0f}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
