"""Model loading: local files, the Hugging Face cache layout, clear failures, switching models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.embedding.weights import resolve_weights
from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.library import Library
from desktop_app.core.models import get_model_spec
from tests.support.photos import write_shape_photos
from tests.support.real_weights import RealWeights
from tests.support.shapes import all_captions


def test_cached_weights_are_found_in_the_hugging_face_layout(tmp_path: Path) -> None:
    """The default model is looked up where open_clip's download puts it, without network."""
    revision = "a" * 40
    repo = tmp_path / "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
    weights = repo / "snapshots" / revision / "open_clip_model.safetensors"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"not really weights")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    source = resolve_weights(get_model_spec("ViT-B-32/laion2b_s34b_b79k"), None, tmp_path)
    assert source.origin == "cache" and source.path.samefile(weights)


def test_a_damaged_copy_in_the_model_cache_is_named_with_what_to_do(
    tmp_path: Path, tiny_weights: Path
) -> None:
    """A copy cut short (disk full, a killed copy) is not hidden behind a vague failure."""
    revision = "b" * 40
    repo = tmp_path / "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"
    weights = repo / "snapshots" / revision / "open_clip_model.safetensors"
    weights.parent.mkdir(parents=True)
    whole = tiny_weights.read_bytes()
    weights.write_bytes(whole[: len(whole) // 2])
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    with pytest.raises(ModelUnavailableError) as error:
        load_embedder("ViT-B-32/laion2b_s34b_b79k", None, tmp_path, "cpu")
    message = str(error.value)
    assert "damaged copy" in message and str(weights) in message  # which file
    assert "Delete that file and run again" in message and "605 MB" in message  # what to do


def test_no_weights_and_no_network_gives_advice(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as error:
        load_embedder("ViT-B-32/laion2b_s34b_b79k", None, tmp_path / "empty-cache", "cpu")
    message = str(error.value)
    assert (
        "--weights" in message and "huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K" in message
    )


def test_a_broken_weights_file_is_reported_not_crashed_on(tmp_path: Path) -> None:
    broken = tmp_path / "half-downloaded.safetensors"
    broken.write_bytes(b"\x00" * 1000)
    with pytest.raises(ModelUnavailableError, match="could not be loaded"):
        load_embedder("lumen-tiny", broken, tmp_path, "cpu")


def test_unknown_model_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="ViT-B-32/laion2b_s34b_b79k"):
        load_embedder("ViT-Nonexistent/foo", None, tmp_path, "cpu")


def test_switching_model_re_embeds_instead_of_mixing_spaces(
    tiny_settings: Settings, tiny_embedder: Embedder, tiny_weights: Path, tmp_path: Path
) -> None:
    write_shape_photos(tmp_path / "photos", seeds=(1,))
    with Library.open(tiny_settings, lambda _s: tiny_embedder) as library:
        library.index([tmp_path / "photos"])
    other_weights = tmp_path / "retrained.safetensors"
    shutil.copy(tiny_weights, other_weights)
    with other_weights.open("r+b") as handle:  # other bytes = other weights = another space
        handle.seek(-64, 2)
        handle.write(b"\x01" * 64)
    other = load_embedder("lumen-tiny", other_weights, tmp_path, "cpu")
    assert other.space != tiny_embedder.space
    settings = tiny_settings.replace(weights=other_weights)
    with Library.open(settings, lambda _s: other) as library:
        summary = library.index()
        assert summary.embedded == 72
        status = library.status()
        assert status.vectors == status.index_size == 72  # old vectors dropped, none mixed in


@pytest.mark.real_weights
def test_real_weights_find_the_described_photos(
    real_weights: list[RealWeights], tmp_path: Path
) -> None:
    """With real pretrained weights in ../shared/models, plain-English queries find shapes."""
    if not real_weights:
        pytest.skip("no real weights under ../shared/models")
    photos = write_shape_photos(tmp_path / "photos", seeds=(1,), size=(224, 224))
    for weights in real_weights:
        embedder = load_embedder(weights.model, weights.path, tmp_path / "cache", "auto")
        settings = Settings(
            data_dir=tmp_path / weights.path.stem, model=weights.model, weights=weights.path
        )
        with Library.open(settings, lambda _s, e=embedder: e) as library:  # type: ignore[misc]
            library.index([tmp_path / "photos"])
            colour_hits = 0
            for caption in all_captions():
                top = library.search(f"a {caption.colour} {caption.shape}", k=1).hits[0].file.path
                colour_hits += photos[top].colour == caption.colour
        assert colour_hits / len(all_captions()) >= 0.5, f"{weights.model}: {colour_hits}/72"
