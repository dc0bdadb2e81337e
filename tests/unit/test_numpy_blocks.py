"""The numpy transformer block both torch-free towers use: batched pictures and causal text."""

from __future__ import annotations

import numpy as np

from desktop_app.core.embedding.numpy_blocks import BLOCK_KEYS, gelu, quick_gelu, residual_block

WIDTH, HEADS = 16, 2


def _block(rng: np.random.Generator) -> dict[str, np.ndarray]:
    shapes = {
        "attn.in_proj_weight": (3 * WIDTH, WIDTH),
        "attn.in_proj_bias": (3 * WIDTH,),
        "attn.out_proj.weight": (WIDTH, WIDTH),
        "mlp.c_fc.weight": (4 * WIDTH, WIDTH),
        "mlp.c_fc.bias": (4 * WIDTH,),
        "mlp.c_proj.weight": (WIDTH, 4 * WIDTH),
    }
    return {
        key: rng.normal(0, 0.2, shapes.get(key, (WIDTH,))).astype(np.float32) for key in BLOCK_KEYS
    }


def test_a_batch_gives_each_picture_what_it_gives_alone() -> None:
    rng = np.random.default_rng(0)
    block, x = _block(rng), rng.normal(size=(3, 5, WIDTH)).astype(np.float32)
    together = residual_block(x, block, HEADS, gelu)
    alone = np.concatenate([residual_block(x[i : i + 1], block, HEADS, gelu) for i in range(3)])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-5)


def test_with_the_causal_mask_a_token_never_sees_the_ones_after_it() -> None:
    rng = np.random.default_rng(1)
    block, x = _block(rng), rng.normal(size=(1, 6, WIDTH)).astype(np.float32)
    causal = np.triu(np.full((6, 6), -np.inf, dtype=np.float32), 1)
    whole = residual_block(x, block, HEADS, quick_gelu, causal)
    prefix = residual_block(x[:, :4], block, HEADS, quick_gelu, causal[:4, :4])
    np.testing.assert_allclose(whole[:, :4], prefix, rtol=1e-5, atol=1e-5)
    unmasked = residual_block(x, block, HEADS, quick_gelu)
    assert not np.allclose(unmasked[:, :4], prefix, atol=1e-3)  # without it, they would
