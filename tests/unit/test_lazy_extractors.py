"""The extractors package loads its readers on first use, and answers as it did before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core import extractors
from desktop_app.core.extractors import dispatch

REPO = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_library_facade_loads_no_file_reader() -> None:
    """A fresh `lumen search` imports the facade and reads no file: no decoder, no plugin."""
    out = _fresh(
        "import sys, desktop_app.core.library, desktop_app.cli.app;"
        "print(sorted(m for m in sys.modules if m.endswith(('.dispatch', 'EpsImagePlugin',"
        " '.office', '.pdf', 'ImageDraw'))))"
    )
    assert out == "[]"


def test_the_package_names_are_the_readers_names(tmp_path: Path) -> None:
    assert extractors.SUPPORTED_EXTENSIONS == dispatch.SUPPORTED_EXTENSIONS
    assert ".jpg" in extractors.SUPPORTED_EXTENSIONS
    assert ".pdf" in extractors.SUPPORTED_EXTENSIONS
    assert extractors.kind_for_path(Path("a.JPG")) == "image"
    assert extractors.kind_for_path(Path("a.md")) == "document"
    assert extractors.kind_for_path(Path("a.exe")) is None
    note = tmp_path / "note.txt"
    note.write_text("A note about the harbour at dawn.", encoding="utf-8")
    assert "harbour" in extractors.extract(note).passages[0].text
    with pytest.raises(extractors.ExtractionError):
        extractors.extract(tmp_path / "missing.xyz")
    with pytest.raises(AttributeError):
        _ = extractors.NO_SUCH_NAME  # type: ignore[attr-defined]


def test_image_extensions_are_those_of_every_pillow_plugin() -> None:
    """Asking only the optional formats' plugins finds what importing all of them finds."""
    out = _fresh(
        "from desktop_app.core.extractors import images;"
        "from PIL import Image; Image.init();"
        "found = set(images._BASE_EXTENSIONS);"
        "[found.update(s) for n, s in images._OPTIONAL_FORMATS.items() if n in Image.OPEN];"
        "found |= images.IMAGE_EXTENSIONS & (images._HEIF_EXTENSIONS | images._AVIF_EXTENSIONS);"
        "print(found == images.IMAGE_EXTENSIONS, '.psd' in found)"
    )
    assert out == "True True"


def test_a_search_loads_no_decoder_and_no_indexing_pipeline() -> None:
    """A fresh `lumen search` (the CLI, the library and its search policy) imports neither
    Pillow nor the indexing pipeline: it reads no picture and indexes nothing."""
    out = _fresh(
        "import sys, desktop_app.cli.app, desktop_app.cli.parser, desktop_app.core.query.policy;"
        "print(sorted(m for m in sys.modules if m == 'PIL' or m.endswith(('.pipeline',"
        " '.embed_pass'))))"
    )
    assert out == "[]"


def test_pairing_knows_every_extension_a_photo_or_video_is_read_from() -> None:
    from desktop_app.core.extractors.images import IMAGE_EXTENSIONS
    from desktop_app.core.extractors.suffixes import PHOTO_SUFFIXES, VIDEO_EXTENSIONS
    from desktop_app.core.extractors.video import VIDEO_EXTENSIONS as READ_VIDEOS

    assert IMAGE_EXTENSIONS <= PHOTO_SUFFIXES
    assert VIDEO_EXTENSIONS == READ_VIDEOS


def test_reading_a_photo_loads_no_document_reader(tmp_path: Path) -> None:
    """Indexing photos (what is read, and which kind each file is) never pays for the PDF,
    Office and text readers; the first document loads them."""
    out = _fresh(
        "import sys; from pathlib import Path; from PIL import Image;"
        f"p = Path({str(tmp_path / 'a.jpg')!r}); Image.new('RGB', (64, 48), 'red').save(p);"
        "from desktop_app.core import extractors;"
        "kinds = [extractors.kind_for_path(Path(n)) for n in ('a.jpg', 'b.pdf', 'c.docx', 'd.md')];"
        "assert extractors.extract(p).image is not None;"
        "print(kinds, sorted(m for m in sys.modules if m.endswith(('.pdf', '.office', '.text',"
        " '.render', '.embedded'))))"
    )
    assert out == "['image', 'document', 'document', 'document'] []"


def test_photos_open_with_the_same_decoders_as_with_every_pillow_plugin() -> None:
    """Only the allowed formats' plugins are imported to open a photo; the decoders tried
    are those Pillow offers with all of its plugins loaded."""
    out = _fresh(
        "import sys; from desktop_app.core.extractors import images; from PIL import Image;"
        "tried = images._open_formats();"
        "plugins = sum(m.startswith('PIL.') and m.endswith('Plugin') for m in sys.modules);"
        "Image.init();"
        "print(tried == tuple(n for n in images._ALLOWED_FORMATS if n in Image.OPEN),"
        " plugins < 20)"
    )
    assert out == "True True"
