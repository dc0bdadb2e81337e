"""The numpy forward pass the towers computed without torch share: layer norm, GELU and one
residual attention block of CLIP's transformer, with open_clip's parameter names."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

BLOCK_KEYS = (
    "ln_1.weight",
    "ln_1.bias",
    "attn.in_proj_weight",
    "attn.in_proj_bias",
    "attn.out_proj.weight",
    "attn.out_proj.bias",
    "ln_2.weight",
    "ln_2.bias",
    "mlp.c_fc.weight",
    "mlp.c_fc.bias",
    "mlp.c_proj.weight",
    "mlp.c_proj.bias",
)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    out: np.ndarray = centred / np.sqrt(var + 1e-5) * weight + bias
    return out


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to ~1e-7 (Abramowitz & Stegun 7.1.26); numpy has none and scipy costs an import."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: np.ndarray = sign * (1.0 - poly * np.exp(-a * a))
    return out


def gelu(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * x * (1.0 + _erf(x * np.float32(1 / np.sqrt(2))))
    return out


def quick_gelu(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = x / (1.0 + np.exp(-1.702 * x))
    return out


def block_weights(
    weights: Mapping[str, np.ndarray], prefix: str, layers: int
) -> list[dict[str, np.ndarray]]:
    """Each residual block's tensors (``{prefix}.{i}.ln_1.weight`` …), keyed as in BLOCK_KEYS."""
    return [{key: weights[f"{prefix}.{i}.{key}"] for key in BLOCK_KEYS} for i in range(layers)]


def residual_block(
    x: np.ndarray,
    b: Mapping[str, np.ndarray],
    heads: int,
    act: Callable[[np.ndarray], np.ndarray],
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """One pre-norm block (attention, then MLP) on ``x`` of shape (n, tokens, width); ``mask`` is
    added to the attention scores (the text tower's causal mask)."""
    n, tokens, width = x.shape
    head_dim = width // heads
    h = layer_norm(x, b["ln_1.weight"], b["ln_1.bias"])
    qkv = h @ b["attn.in_proj_weight"].T + b["attn.in_proj_bias"]
    q, k, v = (
        qkv[..., j * width : (j + 1) * width]
        .reshape(n, tokens, heads, head_dim)
        .transpose(0, 2, 1, 3)
        for j in range(3)
    )
    scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(head_dim))
    if mask is not None:
        scores = scores + mask
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    scores /= scores.sum(-1, keepdims=True)
    attended = (scores @ v).transpose(0, 2, 1, 3).reshape(n, tokens, width)
    x = x + attended @ b["attn.out_proj.weight"].T + b["attn.out_proj.bias"]
    h = layer_norm(x, b["ln_2.weight"], b["ln_2.bias"])
    h = act(h @ b["mlp.c_fc.weight"].T + b["mlp.c_fc.bias"])
    out: np.ndarray = x + h @ b["mlp.c_proj.weight"].T + b["mlp.c_proj.bias"]
    return out
