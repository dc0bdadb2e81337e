"""CLIP's tokenizer without open_clip: the same ids as open_clip's, and no import cycle."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.core.embedding.clip_tokenizer import clip_tokenizer


@functools.cache
def open_clip_tokenizer() -> Callable[[list[str]], Any]:
    """open_clip's own tokenizer for ViT-B-32, the reference."""
    import open_clip

    return open_clip.get_tokenizer("ViT-B-32")


def test_tokenizer_gives_open_clips_ids_on_awkward_text() -> None:
    import open_clip

    reference = open_clip.get_tokenizer("ViT-B-32")
    mine = clip_tokenizer()
    texts = [
        "a cat",
        "It's &amp; they'll   don't",
        "Straße über 日本の猫 😀👍",
        "invoice 2023-0147, total: $1,234.56",
        "x" * 300,
        "\ttabs\nand newlines ",
        "",
    ]
    for text in texts:
        assert mine([text], 77).tolist() == reference([text]).tolist(), text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_tokenizer_matches_open_clip_on_any_text(text: str) -> None:
    reference = open_clip_tokenizer()  # (built once: reading its vocabulary takes ~0.1 s)
    assert clip_tokenizer()([text], 77).tolist() == reference([text]).tolist()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=40))
def test_plain_typed_text_skips_the_cleaner_and_still_matches_open_clip(text: str) -> None:
    reference = open_clip_tokenizer()  # (built once: reading its vocabulary takes ~0.1 s)
    for variant in (text, f"{text} &amp; {text}", f"Q&A {text}\r\n"):
        assert clip_tokenizer()([variant], 77).tolist() == reference([variant]).tolist()


def test_a_merged_tokens_id_is_512_plus_its_rank_as_in_open_clips_vocabulary() -> None:
    """The tokenizer keeps no table of ids: it relies on each merge's token being distinct."""
    from open_clip.tokenizer import SimpleTokenizer

    reference = SimpleTokenizer()
    mine = clip_tokenizer()
    assert len(mine._rank) == len(reference.bpe_ranks) > 48_000
    for line, rank in mine._rank.items():
        first, second = line.split(" ")
        assert reference.bpe_ranks[(first, second)] == rank
        assert reference.encoder[first + second] == 512 + rank
    assert (mine.sot_id, mine.eot_id) == (
        reference.encoder["<start_of_text>"],
        reference.encoder["<end_of_text>"],
    )


def test_the_text_towers_import_each_other_in_one_direction_only() -> None:
    """clip_native and text_encoder share the tokenizer: the torch-free query encoder never
    loads the torch towers (clip_native may name the text tower's shape: no cycle)."""
    probe = (
        "import sys\n"
        "import desktop_app.core.embedding.text_encoder\n"
        "assert 'desktop_app.core.embedding.clip_native' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
