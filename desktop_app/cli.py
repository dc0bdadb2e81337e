"""The `lumen` command line: index, search, similar, status, folders, forget, models."""

from __future__ import annotations

import argparse
import functools
import io
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop_app import __version__, cli_places
from desktop_app.config import Settings, default_data_dir
from desktop_app.core.embedding.weights import DownloadProgress
from desktop_app.core.errors import LumenError
from desktop_app.core.extractors.video import format_time, video_limits
from desktop_app.core.indexing.pipeline import FileChanges, IndexSummary, Progress
from desktop_app.core.indexing.watcher import (
    DEFAULT_RECONCILE_EVERY_S,
    DEFAULT_SETTLE_S,
    FolderWatcher,
)
from desktop_app.core.indexing.writer_lock import LibraryBusyError
from desktop_app.core.library import Library, default_embedder_loader
from desktop_app.core.memory import limit_heap_growth
from desktop_app.core.models import MODELS
from desktop_app.core.query.duplicates import DUPLICATE_COSINE
from desktop_app.core.query.results import (
    QueryResults,
    ResultFile,
    related_documents,
    similar_files,
)
from desktop_app.core.records import RAW, file_to_open
from desktop_app.core.storage.catalog import FileFilter
from desktop_app.core.understanding.apply import search_understood

log = logging.getLogger("desktop_app")

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # as a shell reports a command killed by SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``lumen``."""
    parser = argparse.ArgumentParser(
        prog="lumen", description="Search your own photos and documents by meaning, locally."
    )
    parser.add_argument("--version", action="version", version=f"lumen {__version__}")
    _add_global_options(parser, None)
    # The same options after the command (`lumen search --data-dir D "q"`); SUPPRESS keeps the
    # value given before the command when an option is not repeated after it.
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = [common]

    p = sub.add_parser("index", parents=parents, help="add folders and index new or changed files")
    p.add_argument(
        "paths", nargs="*", type=Path, help="folders to add (default: all watched folders)"
    )
    p.add_argument(
        "--ocr",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="recognise text in scans and photos of paper (slow on a CPU; remembered)",
    )
    p.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="faster indexing on a CPU with 8-bit image-model weights (vectors very close to "
        "full precision; remembered)",
    )

    for name, what in (
        ("search", "find files matching a description"),
        ("similar", "find files like FILE"),
        ("related", "find documents whose text is about FILE (e.g. a photo)"),
    ):
        p = sub.add_parser(name, parents=parents, help=what)
        if name == "search":
            p.add_argument(
                "query",
                help="what to look for, e.g. 'kids on a beach at sunset', "
                "'invoice \"2023-0147\"' (quoted words must appear literally), 'beach -people' "
                "(leave out what matches people), 'dog:2 snow' (dog counts twice)",
            )
            p.add_argument(
                "--like",
                type=Path,
                metavar="FILE",
                help="also look like this photo: lumen search 'at night' --like street.jpg",
            )
            cli_places.add_search_options(p)  # issue 21
        else:
            p.add_argument("file", type=Path, help="an image or document (indexed or not)")
        p.add_argument(
            "-k",
            "--limit",
            type=int,
            default=20,
            metavar="N",
            help="at most this many results (default: %(default)s)",
        )
        p.add_argument(
            "--type",
            choices=["image", "raw", "video", "document", "all"],
            default="all",
            dest="kind",
            help="only photos and pictures (RAW included), only camera RAW photos, only videos, "
            "or only documents (default: %(default)s)",
        )
        if name == "similar":
            p.add_argument(
                "--at",
                dest="at_s",
                type=_seconds,
                metavar="TIME",
                help="for a video: look from its frame at this time (SECONDS or M:SS)",
            )
        p.add_argument(
            "--folder",
            type=Path,
            action="append",
            metavar="DIR",
            help="only files under this folder",
        )
        p.add_argument(
            "--from",
            dest="date_from",
            type=_date,
            metavar="DATE",
            help="taken on or after (YYYY-MM-DD)",
        )
        p.add_argument(
            "--to",
            dest="date_to",
            type=_date,
            metavar="DATE",
            help="taken on or before (YYYY-MM-DD)",
        )
        p.add_argument(
            "--all",
            action="store_true",
            help="also show results below the relevance cutoff (still at most -k of them)",
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("status", parents=parents, help="what the library holds")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors", action="store_true", help="list files that could not be indexed")

    p = sub.add_parser("folders", parents=parents, help="manage watched folders")
    fsub = p.add_subparsers(dest="folders_command", required=True, metavar="ACTION")
    fsub.add_parser("list", parents=parents, help="list watched folders")
    for action in ("add", "remove"):
        fp = fsub.add_parser(action, parents=parents, help=f"{action} a watched folder")
        fp.add_argument("path", type=Path)

    p = sub.add_parser(
        "forget",
        parents=parents,
        help="remove a file or folder's files from the index for good (excludes it)",
    )
    p.add_argument("path", type=Path)

    p = sub.add_parser(
        "exclude", parents=parents, help="files, folders and name patterns never indexed"
    )
    esub = p.add_subparsers(dest="exclude_command", required=True, metavar="ACTION")
    esub.add_parser("list", help="list exclusions")
    ep = esub.add_parser(
        "add", help="exclude a path (/x, ~/x, ./x) or a name (node_modules, *.tmp)"
    )
    ep.add_argument("pattern")
    ep = esub.add_parser("remove", help="index it again (at the next index or watch rescan)")
    ep.add_argument("pattern")

    p = sub.add_parser(
        "watch",
        parents=parents,
        help="keep the index up to date while files change (foreground; Ctrl-C stops)",
    )
    p.add_argument("paths", nargs="*", type=Path, help="folders to add first (default: all)")
    p.add_argument(
        "--settle",
        type=float,
        default=DEFAULT_SETTLE_S,
        metavar="SECONDS",
        help="index a file once it has not changed for this long (default: %(default)g)",
    )
    p.add_argument(
        "--rescan-every",
        type=float,
        default=DEFAULT_RECONCILE_EVERY_S / 60,
        metavar="MINUTES",
        help="also rescan every folder this often, for changes the system did not report "
        "(default: %(default)g; 0: never)",
    )

    p = sub.add_parser(
        "duplicates", parents=parents, help="groups of photos that are the same picture"
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=DUPLICATE_COSINE,
        help="cosine at or above which two photos count as the same (default: %(default)g)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser(
        "eval",
        parents=parents,
        help="measure retrieval quality on captioned images: recall@1/5/10 and mAP",
        description="PAIRS: a CSV/TSV of image,caption rows (a header naming the columns, or "
        "image first and caption last; Flickr30k results.csv and Flickr8k token files work) or "
        "a COCO captions JSON. Image paths are relative to --images or the file's folder.",
    )
    p.add_argument("pairs", type=Path, help="the captions file")
    p.add_argument("--images", type=Path, help="folder the image paths are relative to")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser(
        "tags",
        parents=parents,
        help="tags in use, a file's tags, or add/remove a tag of your own",
        description="lumen tags: every tag with how many files carry it. lumen tags FILE: that "
        "file's tags. lumen tags add FILE TAG…, lumen tags remove FILE TAG…: your own tags (an "
        "automatic tag you remove stays away). Search by tag with `lumen search tag:beach`.",
    )
    p.add_argument("tags_args", nargs="*", metavar="[add|remove] FILE [TAG…]")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    cli_places.add_parser(sub, parents)  # issue 21: lumen places
    sub.add_parser("models", parents=parents, help="list the supported models")
    sub.add_parser(
        "doctor",
        parents=parents,
        help="check this machine: versions, GPU, window libraries, model, disk, index",
    )
    p = sub.add_parser(
        "desktop", parents=parents, help="add Lumen to the application menu, or remove it"
    )
    p.add_argument("desktop_command", choices=["install", "uninstall"], metavar="install|uninstall")
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """--data-dir, --model, --weights, --device, -v, -q (``default``: SUPPRESS after a command)."""

    def flag_default(value: bool) -> Any:
        return default if default is argparse.SUPPRESS else value

    parser.add_argument(
        "--data-dir",
        type=Path,
        default=default,
        metavar="DIR",
        help=f"where the library lives (default: {default_data_dir()})",
    )
    parser.add_argument(
        "--model",
        default=default,
        help="embedding model, e.g. ViT-B-32/laion2b_s34b_b79k (see `lumen models`)",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=default,
        metavar="FILE",
        help="load the model's weights from this local file",
    )
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        default=default,
        help="where the model runs",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=flag_default(False), help="log more"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=flag_default(False), help="no progress bar"
    )


def _date(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from exc


def _seconds(value: str) -> float:
    """SECONDS, M:SS or H:MM:SS."""
    try:
        seconds = 0.0
        for part in value.split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a time: {value!r} (use SECONDS or M:SS)") from exc
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"not a time: {value!r}")
    return seconds


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.load(args.data_dir.expanduser().absolute() if args.data_dir else None)
    settings = settings.with_overrides(model=args.model, weights=args.weights, device=args.device)
    if getattr(args, "ocr", None) is not None:
        settings = settings.replace(ocr=args.ocr)
    if getattr(args, "int8", None) is not None:
        settings = settings.replace(int8=args.int8)
    return settings


def _quiet_root_chatter(record: logging.LogRecord) -> bool:
    """Drop below-error records logged straight on the root logger (open_clip does)."""
    return record.name != "root" or record.levelno >= logging.ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lumen`` command."""
    args = build_parser().parse_args(argv)
    limit_heap_growth()
    # A path that is not valid UTF-8 prints as its own bytes, whatever the locale says.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    if not args.verbose:  # libraries' chatter is not for users
        for noisy in ("open_clip", "huggingface_hub", "PIL"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        # open_clip logs through the root logger itself; raising the root's level instead
        # would silence every logger below it (Lumen's own warnings, watchdog's overflow).
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_root_chatter)
    if args.command == "models":
        return _models()
    if args.command == "search" and not args.query.strip() and args.like is None:
        print(
            'lumen search: the query is empty; say what to look for, e.g. lumen search "a red bike"',
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.command == "desktop":
        return _desktop(args)
    if args.command == "doctor":
        from desktop_app import doctor

        findings = doctor.run_checks(_settings(args))
        print(doctor.format_report(findings))
        return EXIT_ERROR if any(f.state == doctor.FAIL for f in findings) else 0
    try:
        settings = _settings(args)
        if args.command == "eval":
            return _eval(settings, args)
        refusal = _before_opening(settings, args)
        if refusal is not None:
            return refusal
        download = _DownloadBar(enabled=not args.quiet and sys.stderr.isatty())
        loader = functools.partial(default_embedder_loader, on_download=download.update)
        with Library.open(settings, loader) as library:
            return _dispatch(library, args)
    except LumenError as exc:
        print(f"lumen: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("lumen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `lumen search … | head`: the reader has what it wanted
        # (Python would report the pipe again flushing stdout at exit; point it at nothing.)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


READ_ONLY = {"search", "similar", "related", "status", "forget", "tags", "places"}


def _before_opening(settings: Settings, args: argparse.Namespace) -> int | None:
    """An exit code when the command cannot do anything (the data dir is created only when
    there is something to store), else None."""
    has_library = settings.catalog_path.exists()
    missing = [p for p in getattr(args, "paths", None) or [] if not p.expanduser().exists()]
    if missing and not has_library:
        return _no_such_folders(missing)
    read_only = args.command in READ_ONLY or (
        args.command == "folders" and args.folders_command != "add"
    )
    if has_library or not read_only:
        return None
    if args.command == "status" and not getattr(args, "json", False):
        print(f"Library: {settings.data_dir} (nothing indexed yet)")
        print("Index a folder to start: lumen index ~/Pictures")
        return 0
    if args.command == "folders" and args.folders_command == "list":
        print("none (add one with `lumen index PATH`)")
        return 0
    if args.command in ("similar", "related") and not args.file.expanduser().exists():
        return _no_such_file(args.file)
    if args.command == "status":
        return None  # --json: the empty library's figures
    print(
        f"lumen: nothing is indexed yet in {settings.data_dir}; index a folder first: "
        "lumen index ~/Pictures",
        file=sys.stderr,
    )
    return EXIT_ERROR


def _no_such_folders(paths: Sequence[Path]) -> int:
    for path in paths:
        print(f"lumen: no such folder: {path.expanduser().absolute()}", file=sys.stderr)
    print(
        "Give a folder that holds your photos or documents, e.g. `lumen index ~/Documents`; "
        "`lumen folders list` shows the folders already watched.",
        file=sys.stderr,
    )
    return EXIT_ERROR


def _no_such_file(path: Path) -> int:
    print(f"lumen: no such file: {path.expanduser().absolute()}", file=sys.stderr)
    return EXIT_ERROR


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 file``, ``2 files`` (``many``: the plural when it is not ``word + 's'``)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def _dispatch(library: Library, args: argparse.Namespace) -> int:
    library.name_writer(f"lumen {args.command}")  # what another Lumen is told while this writes
    if args.command == "index":
        return _index(library, args)
    if args.command in ("search", "similar", "related"):
        return _search(library, args)
    if args.command == "status":
        return _status(library, args)
    if args.command == "duplicates":
        return _duplicates(library, args)
    if args.command == "folders":
        return _folders(library, args)
    if args.command == "watch":
        return _watch(library, args)
    if args.command == "forget":
        n = library.forget(args.path)
        print(
            f"Forgot {plural(n, 'vector')} under {args.path}; it stays out "
            "(`lumen exclude remove` undoes that)"
        )
        return 0
    if args.command == "exclude":
        return _exclude(library, args)
    if args.command == "tags":
        return _tags(library, args)
    if args.command == "places":
        return cli_places.run(library, args)
    raise AssertionError(args.command)


def _tags(library: Library, args: argparse.Namespace) -> int:
    """``lumen tags [add|remove] [FILE] [TAG…]``."""
    words: list[str] = list(args.tags_args)
    if not words:
        counts = library.tags()
        if args.json:
            print(json.dumps({"tags": [{"tag": t, "files": n} for t, n in counts]}, indent=2))
        elif not counts:
            print("No tags yet: `lumen index` tags photos as it indexes them.")
        else:
            width = max(len(t) for t, _ in counts)
            for tag, n in counts:
                print(f"{tag:<{width}}  {plural(n, 'file')}")
        return 0
    action = words.pop(0) if words[0] in ("add", "remove") and len(words) >= 2 else None
    path = Path(words.pop(0))
    if action is not None:
        if not words:
            print(f"lumen tags {action}: name the tag(s) after the file", file=sys.stderr)
            return EXIT_USAGE
        changed = [t for t in words if library.set_tag(path, t, action == "add")]
        done = "added" if action == "add" else "removed"
        print(f"{', '.join(changed) or 'nothing'} {done} ({path.name})")
        return 0
    if words:
        print("lumen tags: to tag a file, say `lumen tags add FILE TAG`", file=sys.stderr)
        return EXIT_USAGE
    tags = library.file_tags(path)
    if args.json:
        payload = [{"tag": t.name, "source": t.source, "score": t.score} for t in tags]
        print(json.dumps({"path": str(path), "tags": payload}, indent=2))
    else:
        shown = [t.name if t.source == "auto" else f"{t.name} (yours)" for t in tags]
        print(", ".join(shown) if shown else "no tags")
    return 0


def _index(library: Library, args: argparse.Namespace) -> int:
    watched = {f.path for f in library.folders()}
    missing = [
        p
        for p in args.paths
        if not p.expanduser().exists() and p.expanduser().absolute() not in watched
    ]
    if missing:  # a watched folder that is gone is an unplugged drive: index marks it offline
        return _no_such_folders(missing)
    if not args.paths and not watched:
        print("lumen: no folders to index; give one: lumen index ~/Pictures", file=sys.stderr)
        return EXIT_ERROR
    cancel = threading.Event()
    outcome: dict[str, Any] = {}
    bar = _ProgressBar(enabled=not args.quiet and sys.stderr.isatty())

    def progress(p: Progress) -> None:
        if p.phase == "waiting":  # another Lumen is the writer: said once, not drawn as a bar
            outcome["waited"] = True
            bar.close()
            if not args.quiet:
                print(f"lumen: {p.note} (Ctrl-C stops waiting)…", file=sys.stderr, flush=True)
            return
        bar.update(p)

    def work() -> None:
        try:
            outcome["summary"] = library.index(args.paths or None, progress, cancel, hand_off=True)
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="lumen-index")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        print("\nlumen: stopping; finished files are kept…", file=sys.stderr)
        cancel.set()
        worker.join()
    bar.close()
    if "error" in outcome:
        raise outcome["error"]
    summary: IndexSummary = outcome["summary"]
    if summary.cancelled and outcome.get("waited") and not summary.seen:
        print("lumen: stopped waiting; the other Lumen goes on with its run", file=sys.stderr)
        return EXIT_INTERRUPTED
    _print_summary(summary)
    return EXIT_INTERRUPTED if summary.cancelled else 0


class _ProgressBar:
    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None
        self._phase = ""

    def update(self, progress: Progress) -> None:
        if not self._enabled:
            return
        from tqdm import tqdm

        if progress.phase != self._phase:
            self.close()
            self._phase = progress.phase
            total = progress.total if progress.phase in ("indexing", "re-embedding") else None
            self._bar = tqdm(total=total, desc=progress.phase, unit=" files", file=sys.stderr)
        if self._bar is not None:
            if progress.total and self._bar.total != progress.total:
                self._bar.total = progress.total
            self._bar.n = progress.done
            if progress.failed:
                self._bar.set_postfix(failed=progress.failed, refresh=False)
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class _DownloadBar:
    """The model download's progress on stderr (bytes, speed, time left)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None

    def update(self, progress: DownloadProgress) -> None:
        if not self._enabled:
            return
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(
                total=progress.total_bytes,
                desc="downloading model",
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
            )
        self._bar.n = progress.done_bytes
        self._bar.refresh()
        if progress.finished:
            self._bar.close()
            self._bar = None


def _print_summary(s: IndexSummary) -> None:
    print(
        f"Seen {plural(s.seen, 'file')}: {s.new} new, {s.changed} changed, {s.moved} moved, "
        f"{s.removed} removed, {s.unchanged + s.touched} unchanged, {s.failed} failed."
    )
    if s.embedded:
        print(
            f"Indexed {plural(s.embedded, 'file')} in {s.embed_s:.1f} s "
            f"({s.files_per_second:.1f} files/s)."
        )
    for folder in s.offline_folders:
        print(f"Folder not reachable (kept, hidden from results): {folder}")
    if s.failures:
        print(f"{plural(len(s.failures), 'file')} could not be read (see `lumen status --errors`):")
        for path, reason in s.failures[:10]:
            print(f"  {path}: {reason}")
        if len(s.failures) > 10:
            print(f"  … and {len(s.failures) - 10} more")
    if s.cancelled:
        print("Stopped before the end; run `lumen index` again to continue.")


def _search(library: Library, args: argparse.Namespace) -> int:
    file_filter = FileFilter(
        kinds=None if args.kind == "all" else frozenset({args.kind}),
        folders=tuple(p.expanduser().absolute() for p in args.folder) if args.folder else None,
        date_from=args.date_from,
        date_to=args.date_to,
    )
    if args.command != "search":
        indexed = library.catalog.file_by_path(args.file.expanduser().absolute()) is not None
        if not indexed and not args.file.expanduser().exists():
            return _no_such_file(args.file)
    if args.command == "search":
        results = search_understood(  # issue 21: dates, places and kinds become filters
            library, args.query, args.limit, file_filter, args.all, like=args.like, sort=args.sort
        )
    elif args.command == "similar":
        results = similar_files(library, args.file, args.limit, file_filter, args.all, args.at_s)
    else:
        results = related_documents(library, args.file, args.limit, file_filter, args.all)
    if results.notice:
        print(results.notice, file=sys.stderr)
    sort = getattr(args, "sort", "relevance")
    if args.json:
        out = _results_json(results, library.settings.open_raw)
        out.update(cli_places.json_fields(library, results, sort))  # issue 21
        extra = cli_places.result_json(library, results)
        for entry, found in zip(out["results"], results.files, strict=True):
            entry.update(extra.get(found.file.id, {}))
        print(json.dumps(out, indent=2))
        return 0
    understood = cli_places.understood_line(results)  # issue 21
    if understood:
        print(understood)
    print(_header(results, args))
    _print_results(results, args.limit, args.all, cli_places.result_notes(library, results, sort))
    return 0


def _header(results: QueryResults, args: argparse.Namespace) -> str:
    """ "3 results for “a blue square”", "1 result that looks like IMG_001.jpg", …"""
    count = len(results.files)
    shown = f"{count} result{'' if count == 1 else 's'}"
    if args.command == "search":
        like = f" that look{'s' if count == 1 else ''} like {args.like.name}" if args.like else ""
        words = f" for “{args.query}”" if args.query.strip() else ""
        return f"{shown}{like}{words}"
    if args.command == "similar":
        return f"{shown} that look{'s' if count == 1 else ''} like {args.file.name}"
    return f"{shown} about {args.file.name}"


def _results_json(results: QueryResults, open_raw: bool) -> dict[str, Any]:
    return {
        "results": [_result_json(f, open_raw) for f in results.files],
        "hidden_below_cutoff": results.hidden,
        "relevance_cutoff": results.cutoff,
    }


def _result_json(found: ResultFile, open_raw: bool) -> dict[str, Any]:
    """One result; ``match`` says how it was found ("meaning", or "name" when not embedded yet);
    ``opens`` is the file of its shot that opening it shows (setting ``open_raw``).
    """
    f, h = found.file, found.hit
    companions = h.companions if h else ()
    return {
        "path": str(f.path),
        "match": found.match,
        "relevance": round(h.relevance, 1) if h else None,
        "cosine": round(h.score, 4) if h else None,
        "kind": f.kind,
        "relevant": found.relevant,
        "page": h.page if h else None,
        "at_s": h.at_s if h else None,
        "companions": [str(p) for p in companions],
        "opens": str(file_to_open(f.path, companions, open_raw)),
        "tags": list(h.tags) if h else [],
        "duration_s": f.duration_s,
        "snippet": h.passage if h else None,
        "why": {
            "in_name": list(h.why.in_name),
            "in_folder": list(h.why.in_folder),
            "in_text": list(h.why.in_text),
            "in_tags": list(h.why.in_tags),
            "text_source": h.why.text_source,
            "matched_by": "looks" if h.role == "image" else "text",
            "keyword_hit": h.why.keyword,
        }
        if h
        else None,
        "taken_at": f.taken_at.isoformat() if f.taken_at else None,
        "width": f.width,
        "height": f.height,
        "camera": f.camera,
    }


def _print_results(
    results: QueryResults, limit: int, show_all: bool, notes: dict[int, str] | None = None
) -> None:
    """One line per hit: relevance (0–100), path, page; then the passage and why it matched."""
    if not results.files:
        print("No results.")
        return
    for found in results.files:
        hit = found.hit
        if hit is None:  # found by its name: not embedded yet, or the model could not be used
            print(f"name  {found.file.path}")
            continue
        marker = "" if hit.relevant else "  (below cutoff)"
        where = f"  [page {hit.page}]" if hit.page else ""
        if hit.at_s is not None:
            where = f"  [at {format_time(hit.at_s)}]"
        print(f"{hit.relevance:4.0f}  {hit.file.path}{where}{marker}")
        if hit.companions:
            print(f"      same shot: {', '.join(p.name for p in hit.companions)}")
        if hit.tags:
            print(f"      tags: {_highlight(', '.join(hit.tags), hit.why.in_tags)}")
        if hit.passage:
            print(f"      “{_highlight(hit.passage[:160], hit.why.in_text)}”")
        reason = hit.why.describe()
        if reason:
            print(f"      why: {reason}")
        if notes and hit.file.id in notes:  # issue 21: when and where it was taken
            print(f"      {notes[hit.file.id]}")
    if results.hidden and all(found.relevant for found in results.files):
        print(f"… {plural(results.hidden, 'less relevant result')} hidden; add --all to see them.")
    elif show_all and len(results.files) >= limit:
        print(f"… showing the first {limit}; raise -k to see more.")


def _highlight(text: str, words: Sequence[str]) -> str:
    """``text`` with the matched words in bold on a terminal (as typed elsewhere)."""
    if not words or not sys.stdout.isatty():
        return text
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<!\w)({re.escape(word)})(?!\w)", "\033[1m\\1\033[0m", text, flags=re.I)
    return text


def _duplicates(library: Library, args: argparse.Namespace) -> int:
    """``lumen duplicates``: each group's photos, biggest group first."""
    groups = library.duplicates(args.threshold)
    if args.json:
        payload = [
            {"similarity": round(g.similarity, 4), "files": [str(f.path) for f in g.files]}
            for g in groups
        ]
        print(json.dumps({"groups": payload, "threshold": args.threshold}, indent=2))
        return 0
    if not groups:
        print("No near-duplicate photos.")
        return 0
    photos = sum(len(g.files) for g in groups)
    print(
        f"{len(groups)} group{'' if len(groups) == 1 else 's'} of near-duplicates ({photos} photos):"
    )
    for group in groups:
        print(f"\n{len(group.files)} photos (similarity ≥ {group.similarity:.3f}):")
        for record in group.files:
            print(f"  {record.path}")
    return 0


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    """``lumen eval PAIRS``: the model's retrieval quality on a captioned set, as a table."""
    from desktop_app.core.embedding.evaluation import (
        evaluate,
        load_pairs,
        report_json,
        report_table,
    )
    from desktop_app.core.library import default_embedder_loader

    pairs = load_pairs(args.pairs, args.images)
    embedder = default_embedder_loader(settings)
    bar = _ProgressBar(enabled=not args.quiet and sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.update(Progress("indexing", done, total))

    report = evaluate(embedder, pairs, settings.batch_size, progress)
    bar.close()
    if args.json:
        print(json.dumps({"model": settings.model, **report_json(report)}, indent=2))
    else:
        print(f"Model: {settings.model}")
        print(report_table(report))
    return 0


def _status(library: Library, args: argparse.Namespace) -> int:
    st = library.status()
    if args.json:
        payload = {
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
            "vectors": st.vectors,
            "index_size": st.index_size,
            "kinds": st.kinds,
            "video_limits": video_limits(),
            "switching_to": {
                "model": st.switching.note,
                "done": st.switching.done,
                "total": st.switching.total,
            }
            if st.switching
            else None,
        }
        if args.errors:
            payload["errors"] = [
                {"path": str(f.path), "error": f.error} for f in library.failures()
            ]
        print(json.dumps(payload, indent=2))
        return 0
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
    print(f"Videos:  {video_limits()}")
    print("Folders:" if st.folders else "Folders: none (add one with `lumen index PATH`)")
    for f in st.folders:
        state = "" if f.online else " (offline)"
        print(f"  {f.path}{state}{' (paused)' if f.paused else ''}")
    if args.errors:
        failures = library.failures()
        print("Failed:" if failures else "Failed:  none")
        for record in failures:
            print(f"  {record.path}: {record.error}")
    return 0


def _folders(library: Library, args: argparse.Namespace) -> int:
    if args.folders_command == "add":
        folder = library.add_folder(args.path)
        print(f"Watching {folder.path}; run `lumen index` to index it.")
    elif args.folders_command == "remove":
        n = library.remove_folder(args.path)
        print(f"Stopped watching {args.path} ({n} vectors removed).")
    else:
        folders = library.folders()
        if not folders:
            print("none (add one with `lumen index PATH`)")
        for folder in folders:
            print(folder.path)
    return 0


def _exclude(library: Library, args: argparse.Namespace) -> int:
    if args.exclude_command == "add":
        n = library.exclude(args.pattern)
        print(f"Excluded {args.pattern} ({n} vectors removed).")
    elif args.exclude_command == "remove":
        if not library.include(args.pattern):
            print(f"lumen: {args.pattern} was not excluded", file=sys.stderr)
            return EXIT_ERROR
        print(f"{args.pattern} is no longer excluded; `lumen index` picks its files up again.")
    else:
        for pattern in library.exclusions():
            print(pattern)
        print(f"{library.settings.data_dir}  (Lumen's data, always)")
    return 0


def _watch(library: Library, args: argparse.Namespace) -> int:
    try:
        library.claim_writer()
    except LibraryBusyError:
        if not library.writer_follows_changes():
            raise
        for path in args.paths:  # the running watcher takes them within seconds
            library.add_folder(path)
        added = ", ".join(str(p.expanduser().absolute()) for p in args.paths)
        print(
            f"{library.describe_writer()} already follows the changes in this library"
            + (f"; it watches {added} too now." if added else ".")
        )
        return 0
    for path in args.paths:
        library.add_folder(path)
    folders = [f for f in library.folders() if not f.paused]
    if not folders:
        print("lumen: no folders to watch; give one: lumen watch ~/Pictures", file=sys.stderr)
        return EXIT_ERROR
    live = _LiveLog(verbose=not args.quiet)
    watcher = FolderWatcher(
        library,
        settle_s=args.settle,
        reconcile_every_s=args.rescan_every * 60 or None,
        on_change=live.changes,
        on_reconciled=live.reconciled,
    )
    live.say(f"Watching {plural(len(folders), 'folder')} (Ctrl-C to stop):")
    for folder in folders:
        live.say(f"  {folder.path}{'' if folder.online else ' (offline)'}")
    stop = threading.Event()
    # Ctrl-C stops, even when started from a shell that ignores SIGINT (its children inherit that).
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    watcher.start()
    try:
        while watcher.running and not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        watcher.stop()
    library.settings.save()
    if watcher.error is not None:
        print(f"lumen: {watcher.error}", file=sys.stderr)
        return EXIT_ERROR
    live.say("Stopped.")
    return 0


class _LiveLog:
    """The lines `lumen watch` prints as files change (called from the watcher's thread)."""

    def __init__(self, verbose: bool) -> None:
        self._verbose = verbose
        self._reconciled = 0

    def say(self, line: str) -> None:
        print(line, flush=True)

    def _event(self, line: str) -> None:
        self.say(f"{datetime.now():%H:%M:%S} {line}")

    def changes(self, c: FileChanges) -> None:
        for folder in c.offline:
            self._event(f"folder offline (its files are kept, hidden from results): {folder}")
        for folder in c.online:
            self._event(f"folder back online: {folder}")
        if not self._verbose:
            return
        for path in c.indexed:
            self._event(f"indexed {path}")
        for old, new in c.moved:
            self._event(f"moved {old} -> {new}")
        for path in c.removed:
            self._event(f"removed {path}")
        for path, reason in c.failed:
            self._event(f"failed {path}: {reason}")

    def reconciled(self, s: IndexSummary) -> None:
        self._reconciled += 1
        if self._reconciled == 1 or s.new or s.changed or s.moved or s.removed or s.failed:
            self._event(
                f"up to date: {s.seen} files seen, {s.new} new, {s.changed} changed, "
                f"{s.moved} moved, {s.removed} removed, {s.failed} failed"
            )


def _models() -> int:
    for spec in MODELS.values():
        size = f"{spec.download_mb:5d} MB" if spec.download_mb else f"{'local':>8}"
        print(f"{spec.key:48} {size}  {spec.speed}")
        note = spec.note
        if spec.config_file is not None:  # a Lumen model: its weights file is given, not fetched
            note += " Needs --weights FILE (tests/fixtures/lumen-tiny.safetensors in the source)."
        print(f"{'':48} {note}")
    return 0


def _desktop(args: argparse.Namespace) -> int:
    from desktop_app import desktop_entry

    if args.desktop_command == "install":
        written = desktop_entry.install()
        print(f"Lumen is in the application menu ({plural(len(written), 'file')} written):")
        for path in written:
            print(f"  {path}")
        return 0
    removed = desktop_entry.uninstall()
    print(f"Removed {plural(len(removed), 'file')} from the application menu.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
