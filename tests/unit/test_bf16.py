"""bfloat16 products for the towers: vectors within a hair of float32's, the same photos found,
and float32 kept where they do not pay or do not agree."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.config import Settings
from desktop_app.core.embedding import bf16
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from tests.conftest import IndexedShapes
from tests.support.recall import recalls_beside_float32

TEXTS = ["a red circle on the left", "a blue square", "two green triangles at the top", "dog"]


def _load(weights: Path, cache: Path, int8: bool = False) -> Embedder:
    return load_embedder("lumen-tiny", weights, cache, "cpu", int8=int8)


@pytest.fixture(scope="module")
def bf16_embedder(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(bf16.ENVIRONMENT, "1")
        return _load(tiny_weights, tmp_path_factory.mktemp("cache"))


def _pictures(folder: Path, count: int = 12) -> list[Image.Image]:
    return [Image.open(p).convert("RGB") for p in sorted(folder.glob("*.jpg"))[:count]]


def _towers(embedder: Embedder) -> set[bool]:
    towers = embedder._towers
    assert towers is not None
    return towers.bf16_towers


def test_bfloat16_towers_give_float32s_vectors_within_a_hair(
    tiny_embedder: Embedder, bf16_embedder: Embedder, indexed_shapes: IndexedShapes, tmp_path: Path
) -> None:
    _, written = indexed_shapes.copy(tmp_path / "models", seeds=(101,))
    pictures = _pictures(next(iter(written)).parent)

    texts = np.sum(tiny_embedder.encode_texts(TEXTS) * bf16_embedder.encode_texts(TEXTS), 1)
    images = np.sum(
        tiny_embedder.encode_images(pictures) * bf16_embedder.encode_images(pictures), 1
    )

    assert _towers(bf16_embedder) == {False, True}  # both towers switched once loaded
    assert _towers(tiny_embedder) == set()  # (the suite's float32 model)
    assert texts.min() >= bf16.MIN_COSINE and images.min() >= bf16.MIN_COSINE
    assert texts.min() < 1.0 or images.min() < 1.0  # bfloat16 products did run
    with bf16.exact():  # the float32 reference, as the numpy encoders' probes see it
        np.testing.assert_allclose(
            bf16_embedder.encode_texts(TEXTS), tiny_embedder.encode_texts(TEXTS), atol=1e-6
        )
    assert bf16_embedder.space == tiny_embedder.space  # nothing is embedded again


def test_a_library_indexed_in_bfloat16_finds_the_same_photos(
    tiny_embedder: Embedder,
    bf16_embedder: Embedder,
    tiny_settings: Settings,
    indexed_shapes: IndexedShapes,
    tmp_path: Path,
) -> None:
    fp32, bfloat16 = recalls_beside_float32(
        indexed_shapes, tiny_embedder, bf16_embedder, tiny_settings, tmp_path
    )
    assert bfloat16 >= fp32 > 0.5, (fp32, bfloat16)


def test_a_cpu_where_bfloat16_is_slow_keeps_float32(
    tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(bf16.ENVIRONMENT)
    monkeypatch.setattr(bf16, "measured_speedup", lambda: 0.4)  # emulated: slower
    embedder = _load(tiny_weights, tmp_path)
    embedder.encode_texts(TEXTS)
    assert _towers(embedder) == set()
    assert all(b.compute is None for b in embedder.model.transformer.resblocks)

    monkeypatch.setattr(bf16, "measured_speedup", lambda: 2.4)
    assert bf16.wanted()
    monkeypatch.setenv(bf16.ENVIRONMENT, "0")  # the user's word wins
    assert not bf16.wanted()


def test_a_tower_whose_probe_disagrees_stays_float32(
    tiny_embedder: Embedder,
    tiny_weights: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(bf16.ENVIRONMENT, "1")
    monkeypatch.setattr(bf16, "MIN_COSINE", 1.5)  # no probe can agree this well
    embedder = _load(tiny_weights, tmp_path)
    with caplog.at_level(logging.INFO, logger=bf16.__name__):
        vectors = embedder.encode_texts(TEXTS)
    assert _towers(embedder) == set()
    np.testing.assert_array_equal(vectors, tiny_embedder.encode_texts(TEXTS))
    assert "float32 kept" in caplog.text


def test_an_int8_image_tower_keeps_its_own_products(
    tiny_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(bf16.ENVIRONMENT, "1")
    embedder = _load(tiny_weights, tmp_path / "cache", int8=True)
    picture = Image.new("RGB", (64, 48), (200, 30, 30))
    assert embedder.encode_images([picture]).shape == (1, embedder.dim)
    embedder.encode_texts(TEXTS)
    assert _towers(embedder) == {False}  # the text tower only


def test_the_speed_of_bfloat16_products_is_measured_once() -> None:
    first = bf16.measured_speedup()
    assert first >= 0.0
    assert bf16.measured_speedup() == first  # (kept for the process)


def test_the_doctor_says_whether_the_towers_multiply_in_bfloat16(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from desktop_app.doctor import device_finding

    monkeypatch.delenv(bf16.ENVIRONMENT)
    monkeypatch.setattr(bf16, "measured_speedup", lambda: 2.4)
    assert "bfloat16 products on, 2.4× as fast as float32 here" in device_finding().detail
    monkeypatch.setattr(bf16, "measured_speedup", lambda: 0.6)
    assert "bfloat16 products off, emulated here (0.6× float32's speed)" in bf16.describe()
    monkeypatch.setenv(bf16.ENVIRONMENT, "0")
    assert bf16.describe() == "bfloat16 products off by LUMEN_BF16=0"
