"""`lumen status`: what the library holds, and with --errors the files it could not read."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

from desktop_app.cli.common import Subparsers
from desktop_app.core.indexing.other_kinds import other_kinds_line
from desktop_app.core.library import Library
from desktop_app.core.records import RAW, LibraryStatus


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``status``."""
    p = sub.add_parser("status", parents=parents, help="what the library holds")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors", action="store_true", help="list files that could not be indexed")
    p.set_defaults(run_library=run)


def run(library: Library, args: argparse.Namespace) -> int:
    """Print the library's status."""
    st = library.status()
    if args.json:
        payload = _status_json(st)
        if args.errors:
            payload["errors"] = [
                {"path": str(f.path), "error": f.error} for f in library.failures()
            ]
        print(json.dumps(payload, indent=2))
        return 0
    _print_status(st)
    if args.errors:
        failures = library.failures()
        print("Failed:" if failures else "Failed:  none")
        for record in failures:
            print(f"  {record.path}: {record.error}")
    return 0


def _status_json(st: LibraryStatus) -> dict[str, Any]:
    """The status as `--json` prints it."""
    return {
        "other_kinds": st.other_kinds,
        "data_dir": str(st.data_dir),
        "model": st.model,
        "folders": [
            {"path": str(f.path), "online": f.online, "paused": f.paused} for f in st.folders
        ],
        "files": {
            "indexed": st.indexed,
            "pending": st.pending,
            "failed": st.failed,
            "offline": st.offline,
        },
        "documents_awaiting_deeper_pass": st.deeper_pass,  # indexed, some passages still to embed
        "vectors": st.vectors,
        "index_size": st.index_size,
        "kinds": st.kinds,
        "video_limits": _video_limits(),
        "switching_to": {
            "model": st.switching.note,
            "done": st.switching.done,
            "total": st.switching.total,
        }
        if st.switching
        else None,
    }


def _print_status(st: LibraryStatus) -> None:
    """The status as lines for a person."""
    print(f"Library: {st.data_dir}")
    print(f"Model:   {st.model}")
    if st.switching:
        print(
            f"         switching to {st.switching.note}: {st.switching.done} of "
            f"{st.switching.total} files embedded again (searches use {st.model} until then; "
            "`lumen index` goes on with it)"
        )
    print(
        f"Files:   {st.indexed} indexed, {st.pending} pending, {st.failed} failed, {st.offline} offline"
    )
    if st.deeper_pass:
        print(
            f"         {st.deeper_pass} documents await their deeper pass (findable by their "
            "words and first passage meanwhile; `lumen index` goes on with it)"
        )
    print(f"Vectors: {st.vectors} in catalog, {st.index_size} in index")
    if st.kinds:
        names = (("image", "photo"), ("video", "video"), ("document", "document"))
        print(
            "Kinds:   "
            + ", ".join(
                f"{st.kinds[k]} {n}{'' if st.kinds[k] == 1 else 's'}"
                + (f" ({st.kinds[RAW]} RAW)" if k == "image" and st.kinds.get(RAW) else "")
                for k, n in names
                if st.kinds.get(k)
            )
        )
    print(f"Videos:  {_video_limits()}")
    others = other_kinds_line(Counter(st.other_kinds))
    if others:
        print(f"Others:  {others}")
    print("Folders:" if st.folders else "Folders: none (add one with `lumen index PATH`)")
    for f in st.folders:
        state = "" if f.online else " (offline)"
        print(f"  {f.path}{state}{' (paused)' if f.paused else ''}")


def _video_limits() -> str:
    from desktop_app.core.extractors.video import video_limits  # (imports Pillow and PyAV)

    return video_limits()
