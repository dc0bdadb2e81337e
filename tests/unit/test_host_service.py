"""The host's service: it answers with the core's query policy, the same as `lumen search`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from desktop_app.core.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.results import BY_MEANING, BY_NAME
from desktop_app.host.protocol import MODEL_READY, Col, Query
from desktop_app.host.service import LibraryService
from tests.support.photos import write_shape_photos
from tests.support.settings import tiny_model_settings


def test_the_window_and_lumen_search_rank_a_query_the_same(
    tmp_path: Path, tiny_weights: Path, tiny_embedder: Embedder
) -> None:
    settings = tiny_model_settings(tmp_path, tiny_weights)
    photos = tmp_path / "photos"
    write_shape_photos(photos, seeds=(101,))
    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        library.index([photos])
        # Found by the scanner, not embedded yet: only its name can find it.
        folder = library.folders()[0]
        late = photos / "red circle notes.jpg"
        late.write_bytes(b"not embedded yet")
        library.catalog.add_file(
            folder_id=folder.id, path=late, size=16, mtime_ns=1, inode=None,
            fingerprint="", kind="image",
        )  # fmt: skip

    query = "red circle"
    cli = subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(settings.data_dir),
         "--weights", str(tiny_weights), "search", query, "-k", "8", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )  # fmt: skip
    by_cli = [(h["path"], h["match"]) for h in json.loads(cli.stdout)["results"]]

    with Library.open(settings, embedder_loader=lambda _s: tiny_embedder) as library:
        service = LibraryService(library)
        assert service.warm_model().state == MODEL_READY
        result = service.query(Query(text=query, limit=8))
        service.close()
    by_window = [(row[Col.PATH], row[Col.MATCH]) for row in result.rows]

    assert by_window == by_cli
    assert by_cli[0][1] == BY_MEANING
    assert by_cli[-1] == (str(late), BY_NAME)
