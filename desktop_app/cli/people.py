"""`lumen people`: the people found in the photos; name, merge or forget them; who is in a
photo; the face pass; and the off switch that deletes every face descriptor."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop_app.cli.common import EXIT_USAGE, Subparsers, plural
from desktop_app.core.errors import LumenError
from desktop_app.core.library import Library
from desktop_app.core.people.model import face_model_problem
from desktop_app.core.people.service import People
from desktop_app.core.people.store import Face, Person

ACTIONS = ("name", "merge", "forget", "scan")


def add_parsers(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    """Add ``people``."""
    p = sub.add_parser(
        "people",
        parents=parents,
        help="the people in your photos: list, name, merge, forget; who is in a photo",
        description="lumen people: the people found in your photos, most photos first (unnamed "
        "people seen once are left out; --all shows them). lumen people name ID NAME, lumen "
        "people merge ID ID…, lumen people forget ID. lumen people FILE: who is in it. lumen "
        "people scan: look for faces in the photos not looked at yet (`lumen index` does it "
        "too). lumen people --off: turn face recognition off and delete every face descriptor. "
        'Search with `lumen search "NAME at the beach"`, person:NAME or -person:NAME. Faces '
        "never leave this computer.",
    )
    p.add_argument("people_args", nargs="*", metavar="[name|merge|forget|scan|FILE] [ARG…]")
    p.add_argument("--all", action="store_true", help="also unnamed people seen only once")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    switch = p.add_mutually_exclusive_group()
    switch.add_argument(
        "--off",
        dest="switch",
        action="store_const",
        const="off",
        help="turn face recognition off and delete every face descriptor",
    )
    switch.add_argument(
        "--on", dest="switch", action="store_const", const="on", help="turn it back on"
    )
    p.set_defaults(run_library=run)


def run(library: Library, args: argparse.Namespace) -> int:
    """``lumen people [name|merge|forget|scan|FILE] [ARG…] [--all] [--json] [--off|--on]``."""
    people = library.people
    words: list[str] = list(args.people_args)
    if args.switch is not None:
        return _switch(people, args.switch, bool(words))
    if not words:
        return _list(people, args.all, args.json)
    action = words.pop(0) if words[0] in ACTIONS else None
    if action is None:
        if len(words) != 1:
            return _usage("give one photo, or an action: name, merge, forget or scan")
        return _who(people, Path(words[0]).expanduser().absolute(), args.json)
    if action == "scan":
        return _scan(library, args.quiet)
    ids = _ids(words if action != "name" else words[:1])
    if ids is None:
        return _usage(f"{action} needs person ids (the numbers `lumen people` shows)")
    if action == "name":
        if len(words) < 2:
            return _usage("say the name after the id: lumen people name 3 Ann")
        person = people.name(ids[0], " ".join(words[1:]))
        print(f"Person {person.id} is now {person.name} ({plural(person.photos, 'photo')})")
    elif action == "merge":
        if len(ids) < 2:
            return _usage("merge needs two ids or more: lumen people merge 3 7")
        person = people.merge(ids[0], ids[1:])
        print(f"Merged into person {person.id}, {person.label} ({plural(person.photos, 'photo')})")
    else:
        if len(ids) != 1:
            return _usage("forget one person at a time: lumen people forget 3")
        deleted = people.forget(ids[0])
        print(f"Forgot person {ids[0]} ({plural(deleted, 'face')} deleted)")
    return 0


def _usage(line: str) -> int:
    print(f"lumen people: {line}", file=sys.stderr)
    return EXIT_USAGE


def _ids(words: list[str]) -> list[int] | None:
    if not words or not all(w.isdigit() for w in words):
        return None
    return [int(w) for w in words]


def _list(people: People, everyone: bool, as_json: bool) -> int:
    listed = people.listed(everyone)
    if as_json:
        files = people.store.files_of(p.id for p in listed)
        print(json.dumps({"people": [_person_json(p, files.get(p.id, [])) for p in listed]}))
        return 0
    if not people.store.enabled():
        print("Face recognition is off (`lumen people --on` turns it on).")
        return 0
    waiting = people.store.pending_count()
    problem = face_model_problem() if waiting else None
    if problem:
        print(f"lumen people: {problem}", file=sys.stderr)
    elif waiting:
        print(
            f"{plural(waiting, 'photo')} not looked at for faces yet: "
            "`lumen people scan` (or `lumen index`) does it.",
            file=sys.stderr,
        )
    if not listed:
        print("No people found yet." if not everyone else "No faces found yet.")
        return 0
    for person in listed:
        example = f"  e.g. {person.example}" if person.example else ""
        print(f"{person.id:>5}  {person.label}  {plural(person.photos, 'photo')}{example}")
    hidden = len(people.listed(True)) - len(listed)
    if hidden:
        print(f"… {plural(hidden, 'unnamed person', 'unnamed people')} seen once; --all shows them")
    return 0


def _person_json(person: Person, files: list[Path]) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "count": person.photos,
        "faces": person.faces,
        "files": [str(f) for f in files],
    }


def _who(people: People, path: Path, as_json: bool) -> int:
    faces = people.in_file(path)
    if as_json:
        print(json.dumps({"path": str(path), "faces": [_face_json(f) for f in faces]}))
        return 0
    if not faces:
        print(f"No faces found in {path.name}")
        return 0
    for face in faces:
        who = face.name or ("unnamed" if face.person_id is None else f"unnamed ({face.person_id})")
        at = f" at {face.at_s:.1f} s" if face.at_s is not None else ""
        box = face.box
        print(f"{who}  [{box.width}×{box.height} at {box.left},{box.top}{at}]")
    return 0


def _face_json(face: Face) -> dict[str, Any]:
    b = face.box
    return {
        "person": face.person_id,
        "name": face.name,
        "box": [b.left, b.top, b.width, b.height],
        "at_s": face.at_s,
    }


def _scan(library: Library, quiet: bool) -> int:
    library.claim_writer()
    people = library.people

    def progress(done: int, total: int) -> None:
        if not quiet and sys.stderr.isatty():
            print(f"\rfaces: {done}/{total} files", end="", file=sys.stderr, flush=True)

    summary = people.scan_pending(progress=progress)
    if not quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    for path, reason in summary.failed:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(
        f"Looked at {plural(summary.files, 'file')}: {plural(summary.faces, 'face')}, "
        f"{plural(summary.new_people, 'new person', 'new people')}"
    )
    return 0


def _switch(people: People, state: str, extra: bool) -> int:
    if extra:
        return _usage(f"--{state} takes nothing else")
    if state == "on":
        people.turn_on()
        print("Face recognition is on: `lumen people scan` (or `lumen index`) looks for faces.")
        return 0
    try:
        deleted = people.turn_off()
    except LumenError as exc:
        print(f"lumen people: {exc}", file=sys.stderr)
        return 1
    print(
        f"Face recognition is off: {plural(deleted, 'face descriptor')} and every person "
        "deleted. `lumen people --on` turns it back on."
    )
    return 0
