"""The typed client: one method per service call, and every write on the one writer lane."""

from __future__ import annotations

import inspect
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from desktop_app.host.client import Call, LibraryClient
from desktop_app.host.protocol import LANES, WRITE, Query
from desktop_app.host.service import LibraryService

# Arguments the host adds itself (progress, cancel, change callbacks), not sent by the client.
HOST_SUPPLIED = {"progress", "cancel", "on_change"}


class Recorder:
    """A backend that records which lane each call was sent on."""

    def __init__(self) -> None:
        self.sent: dict[str, tuple[str, tuple[Any, ...]]] = {}

    def start(self) -> None:
        pass

    def call(self, lane: str, method: str, *args: Any, progress: Any = None) -> Call[Any]:
        self.sent[method] = (lane, args)
        return Call(Future(), lambda: None)

    def close(self, timeout: float = 30.0) -> None:
        pass


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(f)
        for name, f in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_service_call_has_a_client_method_with_its_arguments() -> None:
    service = _public(LibraryService)
    service.pop("close")  # the host's own shutdown, not a call
    client = _public(LibraryClient)
    assert set(client) == set(service)
    for name, signature in service.items():
        wanted = [p for p in signature.parameters if p != "self" and p not in HOST_SUPPLIED]
        given = [p for p in client[name].parameters if p != "self" and p not in HOST_SUPPLIED]
        assert given == wanted, name


def test_writes_go_to_the_one_writer_and_reads_elsewhere() -> None:
    recorder = Recorder()
    client = LibraryClient(recorder)
    folder = Path("/photos")
    client.index([folder], progress=lambda _p: None)
    client.add_folder(folder)
    client.remove_folder(folder)
    client.set_folder_paused(folder, True)
    client.set_watching(True)
    client.forget([folder / "a.jpg"])
    client.exclude("*.tmp")
    client.include("*.tmp")
    client.set_tag(folder / "a.jpg", "holiday")
    client.info()
    client.failures()
    client.exclusions()
    client.query(Query("cat"))
    client.rows([folder / "a.jpg"])
    client.duplicates()
    client.warm_model()
    client.cancel_download()
    client.thumbnails([(folder / "a.jpg", "ab", "image", None)])
    client.picture(folder / "a.jpg", "image", 800)
    client.video_strip(folder / "a.mp4", 8, 160)
    client.heat_map(folder / "a.jpg", "cat")
    client.places()
    client.people()
    client.name_person(1, "Ann")
    client.merge_people(1, [2])
    client.faces_in_photo(folder / "a.jpg")
    client.this_is(3, 1)
    client.not_this_person(3)
    client.face_recognition()
    client.set_face_recognition(False)
    assert set(recorder.sent) == set(_public(LibraryClient))
    lanes = {name: lane for name, (lane, _args) in recorder.sent.items()}
    # Every call that writes is on the one writer lane (edits run between a run's batches).
    writes = {"index", "add_folder", "set_watching", "remove_folder", "set_folder_paused"}
    writes |= {"forget", "exclude", "include", "set_tag"}
    writes |= {"name_person", "merge_people", "this_is", "not_this_person", "set_face_recognition"}
    assert {name for name, lane in lanes.items() if lane == WRITE} == writes
    assert set(lanes.values()) <= set(LANES)
    assert lanes["cancel_download"] != lanes["warm_model"]  # the download holds the model's lane
    assert lanes["duplicates"] != lanes["query"]  # a long look for duplicates: searches go on
    assert lanes["heat_map"] != lanes["query"]  # the model over one photo: searches go on
    assert lanes["people"] != lanes["query"]  # cutting faces out of photos: searches go on
